/** `nsbox --help`. */
export const MAIN_HELP = `nsbox: rootless Linux sandboxes for tests and untrusted code

Usage:
  nsbox run [options] -- COMMAND [ARG...]   run COMMAND in a new sandbox
  nsbox doctor [--json]                     check what this host supports
  sudo nsbox delegate --user NAME [-- CMD]  give NAME a cgroup subtree for limits
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
  --memory SIZE     memory cap for the whole sandbox, swap off, such as 256M;
                    over it the OOM killer ends a process
  --pids N          cap on processes and threads; reaching it ends the sandbox
  --cpus N          CPU cap in cores, such as 1.5 (needs a cgroup)
  --enforce MODE    best-effort (default): where no cgroup is writable, memory
                    and pids fall back to a polling watchdog, with a warning
                    strict: refuse to start instead (ERR_LIMIT_UNAVAILABLE)
  --ro PATH         bind PATH read-only (repeatable)
  --rw PATH         keep PATH writable, also under --read-only or inside a
                    hidden directory (repeatable)
  --hide PATH       hide PATH: an empty directory or an empty file in its place;
                    symbolic links are resolved first, except ones in a
                    directory you can write, which are refused (repeatable)
  --read-only       make the whole filesystem read-only, except the private
                    /tmp and /dev/shm and the --rw paths
  --clear-env       start from an empty environment, keeping only PATH, HOME,
                    USER, LOGNAME, LANG, LC_ALL, TZ and TERM
  --env KEY=VALUE   set a variable for COMMAND (repeatable)
  --seccomp         deny system calls sandboxed code has no business making
                    (new user namespaces, mount, ptrace, keyrings, bpf,
                    io_uring, TIOCSTI...); --no-seccomp turns it off
  --untrusted       the preset for code you do not trust; each value can be
                    overridden by passing its flag too:
                      --network none --read-only --seccomp --clear-env
                      --pids 128 --memory 512M --timeout 60s --tmp-size 64M,
                      output kept up to 1M (with --json), your home directory
                      hidden, /run, /var/run, /var/tmp and $XDG_RUNTIME_DIR
                      hidden (what COMMAND and --cwd need there comes back),
                      every other UNIX socket outside --rw paths hidden, a
                      minimal /dev, and only the exact paths COMMAND needs
                      bound back from /tmp
  -h, --help        show this help

Exit status: COMMAND's own, or 128+N when signal N ended it. When nsbox ended it
(a limit), one line on stderr says which, e.g.
  nsbox: killed: timeout 30 s exceeded
  nsbox: killed: memory limit 256 MiB exceeded (peak 256.0 MiB)
Errors of nsbox itself exit with 125 and a message that says how to fix them;
126 means COMMAND could not be executed, 127 that it was not found.

Examples:
  nsbox run -- node server.test.js
  nsbox run --network none --timeout 10s --memory 256M -- python3 untrusted.py
  nsbox run --json -- sh -c 'echo hi; exit 3'
  nsbox run --untrusted --rw ./submission --cwd ./submission -- node main.js
`

/** `nsbox delegate --help`. */
export const DELEGATE_HELP = `Usage: sudo nsbox delegate --user NAME [-- COMMAND [ARG...]]
       sudo nsbox delegate --user NAME --undo

Hands a cgroup subtree to NAME, so that NAME's sandboxes get their memory, pids and
cpus limits from the kernel instead of nsbox's polling watchdog. Needs root.

cgroup v1 hosts: creates <hierarchy>/nsbox/user-<uid> in the memory, pids, cpu and
  cpuacct hierarchies, owned by NAME. It lasts until reboot or --undo; COMMAND, when
  given, then runs as NAME.
cgroup v2 hosts: a process can only use a subtree it was started in, so COMMAND is
  required: it runs as NAME (with NAME's own groups) inside a new subtree delegated
  the way systemd's Delegate=yes delegates, which is removed when COMMAND ends.

Exit status: COMMAND's own; 0 without one.

Examples:
  sudo nsbox delegate --user "$USER" -- pnpm test      # GitHub Actions, any v2 host
  sudo nsbox delegate --user ci                         # a cgroup v1 host, once per boot
`

/** `nsbox doctor --help`. */
export const DOCTOR_HELP = `Usage: nsbox doctor [--json]

Checks what this host lets this user do: the tools nsbox needs (unshare, perl), whether
user namespaces work (it starts a test sandbox), and which cgroups can enforce limits.
Prints the command that fixes each missing piece. Exits 1 when sandboxes cannot start
at all, else 0.

Options:
  --json            print the report as JSON
  --help, -h        print this help
`
