"""Static files named by their content, for a proxy that serves what `collectstatic` wrote."""

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


class HashedStaticFilesStorage(ManifestStaticFilesStorage):
    """`collectstatic` writes each file under a name with its content's hash as well
    (main.3f2a9c1b7d0e.js), and `{% static %}` gives those names, so a proxy may let browsers
    keep them for a year (deploy/nginx.conf): a changed file gets a new name. The pages' ES
    modules import one another by relative name, which is rewritten to the hashed names too."""

    support_js_module_import_aggregation = True
