"""The site plus one static file, for the throughput comparison in benchmarks/run.py (never deployed).

gunicorn serves `benchmarks.static_wsgi:application`: every request goes to config.wsgi's
application, except /bench-static/<file>, which WhiteNoise serves from BENCH_STATIC_ROOT
(a temporary folder that run.py fills), as WhiteNoise will serve the site's own static files.
"""

import os

from whitenoise import WhiteNoise

from config.wsgi import application as django_application

application = WhiteNoise(django_application, root=os.environ["BENCH_STATIC_ROOT"], prefix="bench-static/")
