/** `nsbox --help`. */
export const MAIN_HELP = `nsbox: rootless Linux sandboxes for tests and untrusted code

Usage:
  nsbox run [options] -- COMMAND [ARG...]   run COMMAND in a new sandbox
  nsbox doctor [--json]                     check what this host supports
  nsbox --version                           print the version

Run \`nsbox run --help\` for the sandbox options.
Set NSBOX_DEBUG=1 to print each launch step on stderr.
`

/** `nsbox run --help`. */
export const RUN_HELP = `Usage: nsbox run [options] -- COMMAND [ARG...]

Runs COMMAND in its own user, PID, mount, UTS, IPC and network namespaces, as your
own uid with no capabilities, with a private /tmp and /dev/shm and hostname "nsbox".
Everything COMMAND starts is killed when it ends.

Options:
  --network MODE    loopback (default): only a private lo, up
                    none: no usable interface
                    host: share the host's network
  --timeout TIME    kill the sandbox after TIME, such as 30s, 500ms, 2m
  --uid self|root   run as yourself (default) or as root of the sandbox's own
                    user namespace (powerless outside the sandbox)
  --tmp-size SIZE   size cap of the private /tmp, such as 256M (default 1G)
  --cwd DIR         working directory (default: the current one)
  --json            print the result as JSON on stdout instead of the command's
                    output (stdout and stderr are captured into it)
  --memory SIZE     \\
  --pids N           > resource limits: not enforced by this version; using one
  --cpus N          /  is an error (ERR_LIMIT_UNAVAILABLE), never silently ignored
  -h, --help        show this help

Exit status: COMMAND's own, or 128+N when signal N ended it. When nsbox ended it
(a limit), one line on stderr says which, e.g.
  nsbox: killed: timeout 30 s exceeded
Errors of nsbox itself exit with 125 and a message that says how to fix them;
126 means COMMAND could not be executed, 127 that it was not found.

Examples:
  nsbox run -- node server.test.js
  nsbox run --network none --timeout 10s -- python3 untrusted.py
  nsbox run --json -- sh -c 'echo hi; exit 3'
`
