"""Settings for the test suite: the deployment settings with test switches on."""

import os
import tempfile

os.environ.setdefault("FSM_TESTING", "1")
# Tasks run right after the commit that enqueued them; the worker tests pick their backend.
os.environ.setdefault("FSM_TASK_BACKEND", "immediate")

from fieldservice.settings import *  # noqa: E402,F403

MEDIA_ROOT = tempfile.mkdtemp(prefix="fsm-test-media-")
LANGUAGE_CODE = "en"
STATIC_ROOT = tempfile.mkdtemp(prefix="fsm-test-static-")
