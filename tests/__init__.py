"""The test suite.

Each run gets its own Gradio cache folder, set here because Gradio reads GRADIO_TEMP_DIR
when it is imported: runs side by side on one machine (several engineers) would otherwise
share /tmp/gradio, where the demo backend's identical pictures get identical paths, and one
run's app, stopping, deletes the copies another run is still serving.
"""

import atexit
import os
import shutil
import tempfile

if "GRADIO_TEMP_DIR" not in os.environ:
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="yunyx-tests-gradio-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], ignore_errors=True)
