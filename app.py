import threading

from designer import create_app
from designer.web import precompress_assets

app = create_app()

# The diagram's layout engine is 1.6 MB: compress it while nobody waits, and keep it on disk.
threading.Thread(
    target=precompress_assets, args=(app, ["vendor/elk.bundled.js"]), daemon=True
).start()
