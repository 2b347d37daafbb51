"""Helpers shared by the tests, imported as `tests.support.<module>` (fixtures stay in the
conftest.py files):

    api          an in-process confid (`make_api`, `Api`), the operation files, the tokens
    served       a served confid: `python -m app` under uvicorn in a subprocess
    database     THE database wrapper: interleaving, outages, killed processes, round trips,
                 held calls
    faults       stopping a change between its steps (`Fault`), `ProcessDied`
    invariants   what must hold in the database after any change, crash or race
    scenarios    concurrent workloads through the public API, and their invariants
    transports   email transports that count what was handed over
    mailserver   a real SMTP server (aiosmtpd) on loopback, scripted per message
    audit        exports over HTTP, both verifiers side by side, a small history, files
                 of older formats, an export taken apart to tamper with (`ExportFile`)
    entries      audit entries to hash, read and export
    bulk         starting bulk resets over the API, and the exactly-once check
    scrape       reading a /metrics answer
    oidc         confid configured for the test OpenID provider, with a clock
    idp          a real OpenID provider (oidc-provider on Node.js) on loopback
    live         served apps and a graphql-transport-ws client
    cli          running `confid` against a served confid
    browser      headless Chromium against a served confid
    web          a GraphiQL build folder without Node.js
"""
