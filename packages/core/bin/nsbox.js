#!/usr/bin/env node
// The `nsbox` command. A file of its own, present before the first build, so that
// installing a checkout links the bin without warnings; the CLI itself is compiled to dist.
import '../dist/cli/main.js'
