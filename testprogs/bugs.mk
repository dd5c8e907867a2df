# The root Makefile includes */*.mk only; this pulls in the bug suite's
# fragment one level down.  Harmless (guarded) once the root includes
# */*/*.mk too.
include testprogs/bugs/bugs.mk
