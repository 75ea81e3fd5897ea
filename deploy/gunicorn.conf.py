"""gunicorn settings of one careapp app server.

``gunicorn --config deploy/gunicorn.conf.py 'careapp:create_app()'`` (deploy/systemd/careapp.service
does this). The address, the number of workers and the log files come from the environment
(``/etc/careapp/careapp.env`` under systemd), so every app server shares this file.
"""

import os

#: Where nginx reaches this server: a private address, never a public one (comma-separated).
bind = os.environ.get("CAREAPP_BIND", "127.0.0.1:8000").split(",")
#: Sync workers, one request at a time each: about two per core.
workers = int(os.environ.get("CAREAPP_WORKERS", str(2 * (os.cpu_count() or 1))))
worker_class = "sync"
#: A worker silent this long is killed and replaced; nginx waits longer (proxy_read_timeout).
timeout = 30
#: On stop or reload, requests in progress get this long to finish.
graceful_timeout = 20
#: Workers are replaced now and then, one at a time, so that memory does not creep.
max_requests = 5000
max_requests_jitter = 500

#: gunicorn's access log with secrets taken out of paths and queries.
logger_class = "careapp.access_log.RedactingLogger"
accesslog = os.environ.get("CAREAPP_ACCESS_LOG", "-")
errorlog = os.environ.get("CAREAPP_ERROR_LOG", "-")
# gunicorn's usual line plus the time taken; %(h)s is the client's address as the app took
# it from X-Forwarded-For (TRUSTED_PROXIES), not nginx's.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms'
