"""
One module per twistd command: each exposes Options and makeService.

A tap module only parses options and assembles: C{Options} turns the
layered configuration (L{appserver.config}) into checked values, and
C{makeService} puts services together from them, binding and starting
nothing. What it calls to make a part lives with what that part concerns:
app discovery in L{appserver.web.appdir}, the served-directory check in
L{appserver.web.served}, the reloader in L{appserver.web.reloading}, the
sessions service in L{appserver.sessions.service} (L{makeSessionsService}),
QOTD through the installed C{qotd} plugin in L{appserver.web.demo.quoter}.
A service's constructor only keeps what it is given.
"""
