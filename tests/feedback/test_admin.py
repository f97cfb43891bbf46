from django.urls import reverse


def test_admin_pages_for_evaluations_and_articles(client, make_order, evaluate, world, django_user_model):
    from fieldservice.knowledge.services import article_from_order

    evaluation = evaluate(make_order("completed"), overall=2)
    article = article_from_order(make_order("closed"), actor=world.agent)
    client.force_login(django_user_model.objects.create_superuser("site-admin", password="pw-for-tests-1"))
    assert client.get(reverse("admin:feedback_evaluation_changelist"), {"q": "WO"}).status_code == 200
    response = client.get(reverse("admin:feedback_evaluation_change", args=[evaluation.pk]))
    assert response.status_code == 200 and 'name="overall"' not in response.content.decode()
    assert client.get(reverse("admin:feedback_evaluation_add")).status_code == 403
    assert client.get(reverse("admin:knowledge_article_changelist"), {"q": "oil"}).status_code == 200
    assert client.get(reverse("admin:knowledge_article_add")).status_code == 200
    response = client.get(reverse("admin:knowledge_article_change", args=[article.pk]))
    assert response.status_code == 200 and 'name="status"' not in response.content.decode()
