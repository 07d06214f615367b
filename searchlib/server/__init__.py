"""``searchlib serve``: an index over HTTP, as a JSON API and a search page.

The server is an optional part: it needs Starlette and uvicorn (``pip install
"searchlib[server]"``), which only the ``serve`` command imports. :func:`create_app
<searchlib.server.app.create_app>` builds the ASGI application; the command runs it
with uvicorn.
"""
