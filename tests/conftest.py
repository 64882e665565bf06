"""
pytest configuration shared by every test module.

The C{mutmut} Hypothesis profile is for C{make mutate} (docs/mutation.md):
mutmut runs a test again in forked processes, each time on a new
L{twisted.trial.unittest.TestCase} instance, which Hypothesis's
C{differing_executors} health check would report as a failure and so count
every mutant as killed. Ordinary runs keep the default profile.
"""

from hypothesis import HealthCheck, settings

settings.register_profile("mutmut", suppress_health_check=[HealthCheck.differing_executors])
