"""Static files named by their content, for a proxy that serves what `collectstatic` wrote."""

import gzip
from pathlib import PurePosixPath

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

# Text and binaries that compress well: the pose runtime's wasm to about a third, the models by a
# fifth. Images, audio and video are compressed already.
COMPRESSIBLE = {
    *(".cjs", ".css", ".html", ".js", ".json", ".map", ".mjs", ".svg", ".txt"),
    *(".task", ".tflite", ".wasm"),
}
# A copy saving less than this is not written: the browser would unpack it for little.
MIN_SAVING = 0.1


class HashedStaticFilesStorage(ManifestStaticFilesStorage):
    """`collectstatic` writes each file under a name with its content's hash as well
    (main.3f2a9c1b7d0e.js), and `{% static %}` gives those names, so a proxy may let browsers
    keep them for a year (deploy/nginx.conf): a changed file gets a new name. The pages' ES
    modules import one another by relative name, which is rewritten to the hashed names too.

    Each hashed file that compresses well also gets a gzip copy beside it (main.3f2a9c1b7d0e.js.gz),
    which nginx sends to browsers that accept it (`gzip_static`): a first visit to the live page
    downloads about 8 MB instead of 16, with no compression work per request."""

    support_js_module_import_aggregation = True

    def post_process(self, paths, dry_run=False, **options):
        yield from super().post_process(paths, dry_run, **options)
        if dry_run:
            return
        for name in set(self.hashed_files.values()):
            if PurePosixPath(name).suffix in COMPRESSIBLE:
                self._write_gzip_copy(name)

    def _write_gzip_copy(self, name: str) -> None:
        with self.open(name) as file:
            content = file.read()
        packed = gzip.compress(content, compresslevel=9, mtime=0)
        if len(packed) <= len(content) * (1 - MIN_SAVING):
            with open(self.path(name + ".gz"), "wb") as out:
                out.write(packed)
