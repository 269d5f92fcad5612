#!/usr/bin/env bash
# The loader, transparency, fetch and module-hooks-thread tests on the oldest Node that engines allows (22.15), from
# npm's `node` package through npx. Not a devDependency alias: that package's bin is also named
# `node`, and npm links it over the pinned Node 24's node_modules/.bin/node, which every script uses.
set -euo pipefail
node22=$(npx -y -p node@22.15.0 -- node -p process.execPath)
"$node22" --version
PROVENANT_TEST_NODE="$node22" npx vitest run test/loader test/transparency test/net/cross-service.test.ts test/mediation/worker-journal.test.ts
