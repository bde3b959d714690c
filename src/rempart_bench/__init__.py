"""The bench beside the runtime: a synthetic population, workloads, attack scenarios, benches.

It adds ``rempart seed``, ``rempart demo-logins`` and ``rempart bench`` to the command line
through the ``rempart.commands`` entry-point group; the runtime (``rempart``) never imports it.
"""
