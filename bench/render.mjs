// Turns the benchmark data (docs/benchmarks.json) into docs/benchmarks.md and its chart.

import { renderTestRunners } from './render-suites.mjs'
import { LAUNCHERS } from './startup.mjs'
import { fixed, median, table } from './support.mjs'

/** The document, the targets with their measured ratios, and a summary for the terminal. */
export function renderMarkdown({ machine, sections }) {
  const targets = []
  const target = (name, ratio, limit) => {
    if (ratio === undefined || Number.isNaN(ratio)) return
    targets.push({ name, ratio, limit, pass: ratio <= limit })
  }
  const parts = [INTRO, machineTable(machine)]

  const startup = sections.startup
  if (startup) {
    const ms = (name) => startup.samples[name] && median(startup.samples[name])
    const bwrap = ms(LAUNCHERS.bubblewrap)
    target('per sandbox: nsbox / bubblewrap', ms(LAUNCHERS.nsbox) / bwrap, 1.0)
    target('per sandbox, memory cap: nsbox / bubblewrap', ms(LAUNCHERS.nsboxMemory) / bwrap, 1.25)
    target(
      'per sandbox, untrusted: nsbox / bubblewrap strict',
      ms(LAUNCHERS.nsboxUntrusted) / ms(LAUNCHERS.bubblewrapStrict),
      1.5,
    )
    const cpu = (name) => startup.cpu?.[name] && median(startup.cpu[name])
    parts.push(
      '## Per-sandbox cost\n',
      "Sequential launches of `true` from one Node.js process; milliseconds per launch, median of the rounds. nsbox: `run('true')`, with and without `memory: '256M'`, and the same with no [spare launcher](how-it-works.md#spare-launchers) started ahead (`NSBOX_SPARES=0`). With `seccomp: true`, and with `untrusted: true` (its whole preset: read-only filesystem, hidden home and socket places, minimal `/dev`, seccomp, limits in a cgroup). bubblewrap: `bwrap --unshare-all --die-with-parent --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp true`; strict, as docs/untrusted.md compares it: `bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-all --die-with-parent --new-session true`. Raw `unshare`: the same namespaces as nsbox with no setup at all (no private `/tmp`, no loopback, no uid drop), the floor any namespace launcher starts from. CPU per launch counts every process involved, the caller's own included: a spare moves the work of starting a sandbox ahead of the launch, it does not remove it.\n",
      table(
        ['launcher', 'ms per launch', 'vs bubblewrap', 'CPU ms per launch'],
        Object.keys(startup.samples).map((name) => [
          name,
          fixed(ms(name)),
          bwrap ? `${fixed(ms(name) / bwrap)} ×` : 'n/a',
          fixed(cpu(name)),
        ]),
      ),
    )
  }

  const concurrency = sections.concurrency
  if (concurrency) {
    const rate = (name, level) =>
      concurrency.perSecond[name]?.[level] && median(concurrency.perSecond[name][level])
    const levels = Object.keys(concurrency.perSecond[LAUNCHERS.nsbox])
    parts.push(
      '## Sandboxes started per second, several at once\n',
      'The same launches of `true`, `N` at a time, until all are done; sandboxes per second, median of the rounds. Higher is better; the last column is nsbox’s rate over bubblewrap’s.\n',
      table(
        ['at once', 'nsbox', 'bubblewrap', 'nsbox / bubblewrap'],
        levels.map((level) => {
          const nsbox = rate(LAUNCHERS.nsbox, level)
          const bwrap = rate(LAUNCHERS.bubblewrap, level)
          return [
            level,
            fixed(nsbox, 0),
            fixed(bwrap, 0),
            bwrap ? `${fixed(nsbox / bwrap)} ×` : 'n/a',
          ]
        }),
      ),
    )
  }

  const memory = sections.memory
  if (memory) {
    const kib = (name) => memory.overhead[name] && median(memory.overhead[name])
    parts.push(
      '## Memory overhead per sandbox\n',
      "Resident memory of the launcher's own processes while a sandbox runs `sleep`, the command itself left out: for nsbox, `unshare` and its init; for bubblewrap, its two processes. Median of the rounds. While launches go on, nsbox also keeps one spare launcher of this size per kind of launch.\n",
      table(
        ['launcher', 'resident memory'],
        Object.keys(memory.overhead).map((name) => [name, `${fixed(kib(name) / 1024, 1)} MiB`]),
      ),
    )
  }

  const eventLoop = sections.eventLoop
  if (eventLoop) {
    const { spawnBlock, nsboxBlock, burstTurn, lateness, burst, timeoutMs } = eventLoop
    target('event-loop block per launch, p99 / 5 ms', nsboxBlock.p99 / 5, 1.0)
    target(`timeout lateness, ${burst} launches at once, p99 / 100 ms`, lateness.p99 / 100, 1.0)
    parts.push(
      '## Event loop\n',
      `How long a launch holds the caller's event loop: from before the call until the loop's next turn, one launch at a time (for nsbox, the larger of the turn of \`spawn()\` and the next one, in which a spare launcher starts). A bare \`child_process.spawn('true')\` is the floor: nsbox starts one \`unshare\` per sandbox the same way. Then ${burst} sandboxes of \`sleep 10\` started at once with a ${timeoutMs} ms timeout: the longest turns of the loop meanwhile, and how much later than its timeout each result settled. nsbox starts launchers one per turn of the loop, so timers run in between.\n`,
      table(
        ['measure', 'p50 ms', 'p99 ms'],
        [
          [
            "bare child_process.spawn('true'), block per launch",
            fixed(spawnBlock.p50),
            fixed(spawnBlock.p99),
          ],
          ['nsbox spawn(), block per launch', fixed(nsboxBlock.p50), fixed(nsboxBlock.p99)],
          [
            `turns of the loop, ${burst} launches at once`,
            fixed(burstTurn.p50),
            fixed(burstTurn.p99),
          ],
          [`timeout lateness, ${burst} launches at once`, fixed(lateness.p50), fixed(lateness.p99)],
        ],
      ),
    )
  }

  parts.push(...renderTestRunners(sections, machine, target))

  parts.push(
    '## Targets\n',
    '![Each ratio against its target](benchmarks.svg)\n',
    table(
      ['measure', 'ratio', 'target', ''],
      targets.map(({ name, ratio, limit, pass }) => [
        name,
        fixed(ratio),
        `≤ ${fixed(limit)}`,
        pass ? 'pass' : '**miss**',
      ]),
    ),
    ANALYSIS,
  )
  const summary = targets
    .map(
      ({ name, ratio, limit, pass }) =>
        `${pass ? 'PASS' : 'FAIL'}  ${name} = ${fixed(ratio)} (target ≤ ${fixed(limit)})`,
    )
    .join('\n')
  return { document: parts.filter(Boolean).join('\n'), targets, summary }
}

/** A horizontal bar per target: the measured ratio, with the target marked. */
export function renderChart(targets) {
  const width = 880
  const labelWidth = 500
  const barArea = width - labelWidth - 70
  const rowHeight = 28
  const height = 50 + targets.length * rowHeight
  const scaleMax =
    Math.max(1.5, ...targets.map((t) => Math.min(t.ratio, 5)), ...targets.map((t) => t.limit)) *
    1.05
  const x = (ratio) => labelWidth + (Math.min(ratio, scaleMax) / scaleMax) * barArea
  const escapeXml = (text) =>
    text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
  const rows = targets.map(({ name, ratio, limit, pass }, index) => {
    const y = 40 + index * rowHeight
    return [
      `<text x="${labelWidth - 8}" y="${y + 14}" text-anchor="end">${escapeXml(name)}</text>`,
      `<rect x="${labelWidth}" y="${y + 3}" width="${(x(ratio) - labelWidth).toFixed(1)}" height="16" fill="${pass ? '#3a7d44' : '#c0392b'}"/>`,
      `<line x1="${x(limit).toFixed(1)}" x2="${x(limit).toFixed(1)}" y1="${y}" y2="${y + 22}" stroke="#222" stroke-width="2"/>`,
      `<text x="${(x(ratio) + 6).toFixed(1)}" y="${y + 15}">${ratio.toFixed(2)}</text>`,
    ].join('\n')
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">
<title>nsbox benchmarks: each measured ratio against its target</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="20" font-size="14" font-weight="bold">nsbox: measured ratio (bar) against its target (line); green meets it</text>
${rows.join('\n')}
<line x1="${x(1).toFixed(1)}" x2="${x(1).toFixed(1)}" y1="32" y2="${height - 6}" stroke="#999" stroke-dasharray="3,3"/>
</svg>
`
}

function machineTable(machine) {
  return `## Machine

${table(
  ['', ''],
  [
    ['date', machine.date],
    ['system', `${machine.os}, kernel ${machine.kernel}`],
    ['CPU, memory', `${machine.cpus}, ${machine.memory}`],
    ['Node.js', machine.node],
    ['util-linux `unshare`, bubblewrap', `${machine.unshare}, ${machine.bubblewrap}`],
    ['Vitest, Jest', `${machine.vitest}, ${machine.jest}`],
    ['cgroups', `${machine.cgroups}; memory caps enforced by ${machine.limitsBy}`],
    ['run as', machine.user],
  ],
)}`
}

const INTRO = `# Benchmarks

This page is written by \`pnpm bench\` from the figures it measured (kept in
[benchmarks.json](benchmarks.json)); run it again to measure your own machine. Every
contender runs in interleaved rounds, so that a machine's drift hits all alike, and tables
show medians. Machines are noisy: the ratios, not the milliseconds, are the headline.
Tests never time anything; only this command does.

Run it as the user whose sandboxes you care about: as root, nsbox skips the rootless
paths. For example \`sudo setpriv --reuid $USER --regid $USER --init-groups pnpm bench\`
from a root shell, or \`pnpm bench\` as yourself. \`BENCH_ONLY=startup,concurrency,memory,vitest,jest\`
measures some sections again and keeps the others' last figures.
`

const ANALYSIS = `## Where the time goes

- **Per sandbox.** Raw \`unshare\` with the same namespaces is the floor. On top of it,
  nsbox starts a small Perl init that builds the sandbox (private \`/tmp\`, loopback,
  hostname, the uid drop, the cgroup) and stays as PID 1 to reap and report. The system
  calls of that setup take tens of microseconds each; starting Perl and compiling the init
  take about 2 ms, which is why a cold launch (\`NSBOX_SPARES=0\`) costs more than
  bubblewrap's. A spare launcher, started while the previous sandbox runs, has done that
  part before the next launch asks for it. The CPU column shows that the work stays the
  same, about three times bubblewrap's: that, not latency, is what limits how many
  sandboxes start per second when several start at once.
- **With a memory cap.** Creating, filling in and removing the sandbox's cgroup costs a
  fraction of a millisecond. Moving the init into it costs an RCU grace period of the
  kernel (about 13 ms here) whenever no other cgroup move happened in the last few
  milliseconds: a launch every few milliseconds, as here, rarely waits for it, a sandbox
  per test file every time. The spare launcher enters its cgroup before it is needed.
- **Event loop.** Starting a launcher is a \`child_process.spawn()\` of \`unshare\`
  with its stdio pipes and control socket: Node.js forks and waits for the child's
  \`exec\`, which takes longer while other sandboxes' inits are busy on the same cores.
  Everything else of a launch (options, host facts, the plan, the cgroup) takes a fraction
  of a millisecond. Launchers start one per turn of the loop, so a burst of launches
  delays a timer by one launcher start at most, not by the whole burst; a sandbox whose
  timeout fires before its launcher's turn came ends without starting.
- **Vitest.** Vitest's \`forks\` pool also starts a fresh process per file, so the pool
  adds little more than the sandbox itself per file, and a quick check of the host when
  the configuration loads (a few milliseconds).
- **Jest.** A fresh sandbox per file (\`isolate: 'file'\`, the default) means a fresh
  Node.js process per file, which loads Jest's runner, test framework, environment and the
  transforms before the first test; the profile of such a process shows what that CPU is spent on,
  work that Jest's default runner does once per worker. The runner starts each file's
  process ahead, while the files before it run, which hides the cost where files wait
  (I/O, timers, servers) but not where every core is busy, as with trivial files: there
  the CPU per file decides. It spares ts-jest the TypeScript program it builds on start-up
  (every \`lib.*.d.ts\` parsed) unless a file must be compiled, and on Node.js 22.1 and
  later keeps compiled code in Node's compile cache, in Jest's cache directory.
  \`isolate: 'worker'\` keeps a sandbox per worker, cleaned between files, at about Jest's
  own cost; see [the Jest guide](jest.md).
`
