"""The WSGI application gunicorn serves for the tests: moto's whole AWS emulator in one app.

Loaded by ``gunicorn moto_wsgi:app`` (see ``moto_server.py``), never imported by tests.
"""

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

app = DomainDispatcherApplication(create_backend_app)
