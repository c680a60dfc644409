import gc

from portal import create_app

app = create_app()

# The server process's own objects (the app, its routes and templates, SQLAlchemy's mappers)
# live as long as the process: frozen, the garbage collector no longer walks them at every
# collection, and a higher first threshold runs it less often. On a page with a 200-person
# roster the collector took a sixth of the time (benchmarks/run.py); it now takes almost none.
gc.freeze()
gc.set_threshold(10_000, 10, 10)
