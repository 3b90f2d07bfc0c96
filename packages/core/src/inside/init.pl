# nsbox init: runs as PID 1 of a fresh sandbox, started by util-linux `unshare`
# as uid 0 of a new user namespace (mapped to the caller's own uid).
#
# Why Perl: perl-base is Essential on Debian and Ubuntu, starts in about 2 ms, and
# can make the system calls this needs (mount, sethostname, unshare, prctl, the
# SIOCSIFFLAGS ioctl) in one process. Doing the same with ip(8), mount(8),
# hostname(1) and a second unshare(1) costs five execs: measured 12-13 ms per
# sandbox against 9.3 ms for this script.
#
# It imports no module: every `use` costs start-up time. Checked with
# `perl -Mstrict -Mwarnings -c` in the test suite.
#
# Arguments: the file descriptors of the sandbox's cgroup.procs files, opened by the
# parent (the kernel checks a cgroup move against the opener's credentials).
#
# Protocol on fd 3 (a socket to the nsbox parent):
#   in:  "<length>\n" then <length> bytes of NUL-terminated tokens (the plan),
#        later "kill <signal number>\n" lines
#   out: "error <step>\t<errno>\n" (setup failed), or "started\n" once the command is
#        forked, then "exec-error <errno>\n", or "cpu <milliseconds>\n" and
#        "exit <code>\n" or "signal <number>\n"
# End of file on fd 3 means the parent died or killed the sandbox: PID 1 exits, and
# the kernel kills every process left in the PID namespace.
#
# fd 2 carries nsbox's own diagnostics; the command's stderr arrives on fd 4 and
# is moved to fd 2 just before exec.

my $CONTROL_FD = 3;
my $COMMAND_STDERR_FD = 4;

open(my $control, '+<&=', $CONTROL_FD) or exit 120;

sub report { syswrite($control, $_[0] . "\n") }

sub fail {
  my ($step) = @_;
  report("error $step\t" . (0 + $!));
  exit 121;
}

# Control bytes read past the plan: requests sent right after it, handled once the
# command runs.
my $pending = '';

sub read_plan {
  my $buffer = '';
  until ($buffer =~ /\n/) {
    sysread($control, $buffer, 65536, length $buffer) or exit 122;
  }
  my ($length) = $buffer =~ /^(\d+)\n/ or exit 123;
  $buffer = substr($buffer, length($length) + 1);
  while (length($buffer) < $length) {
    sysread($control, $buffer, $length - length($buffer), length $buffer) or exit 122;
  }
  $pending = substr($buffer, $length);
  my @tokens = split /\0/, substr($buffer, 0, $length), -1;
  pop @tokens;
  return @tokens;
}

# Reads what the parent sent; end of file means it is gone, or killed this sandbox
# (whatever step it is at): PID 1 exits, and the kernel kills the PID namespace.
sub read_control {
  sysread($control, $pending, 4096, length $pending) or exit 125;
}

# The cgroup comes first, before the plan: the parent may start this init ahead of need,
# and a cgroup move waits for an RCU grace period that then costs the sandbox nothing.
# The command and all it starts are charged to the sandbox's cgroup from their first page.
for my $fd (@ARGV) {
  open(my $procs, '>&=', 0 + $fd) or fail('cgroup');
  syswrite($procs, '0') or fail('cgroup');
  close $procs;
}

my @plan = read_plan();
shift(@plan) eq 'nsbox-plan-2' or exit 124;

# System call numbers and open flags differ between architectures; the parent knows ours.
my ($SYS_mount, $SYS_sethostname, $SYS_unshare, $SYS_prctl, $SYS_setsid,
    $SYS_rt_sigprocmask, $SYS_signalfd4, $SYS_exit_group, $SYS_keyctl, $SYS_fcntl,
    $SYS_close_range, $O_PATH, $O_NOFOLLOW) = map { 0 + $_ } splice(@plan, 0, 13);

# Not dumpable: the command runs as the same host uid as this PID 1, and would otherwise
# be allowed to ptrace it, read /proc/1/mem or take its control socket with
# pidfd_getfd(2). The command's own exec makes it dumpable again.
my $PR_SET_DUMPABLE = 4;
syscall($SYS_prctl, $PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 or fail('dumpable');

my $MS_RDONLY = 1;
my $MS_NOSUID = 2;
my $MS_NODEV = 4;
my $MS_NOEXEC = 8;
my $MS_REMOUNT = 32;
my $MS_NOATIME = 1024;
my $MS_NODIRATIME = 2048;
my $MS_BIND = 4096;
my $MS_REC = 16384;
my $MS_RELATIME = 1 << 21;
# Per-mount options that a remount inside a user namespace must keep: the kernel locks
# them on mounts that came from the host, and refuses a remount that drops one.
my %KEPT_MOUNT_FLAGS = (
  nosuid => $MS_NOSUID, nodev => $MS_NODEV, noexec => $MS_NOEXEC,
  noatime => $MS_NOATIME, nodiratime => $MS_NODIRATIME, relatime => $MS_RELATIME,
);
my $CLONE_NEWUSER = 0x10000000;
# What a command that runs as root gets of its own: namespaces its user namespace owns, in
# which every mount it inherits is locked to it.
my $CLONE_ROOT_NAMESPACES = 0x10000000 | 0x00020000 | 0x04000000 | 0x08000000; # user ns uts ipc
my $PR_SET_NO_NEW_PRIVS = 38;
my $PR_SET_SECUREBITS = 28;
my $PR_SET_SECCOMP = 22;
my $SECCOMP_MODE_FILTER = 2;
my $KEYCTL_JOIN_SESSION_KEYRING = 1;
my $CLOSE_RANGE_CLOEXEC = 4;
my $F_SETFD = 2;
my $FD_CLOEXEC = 1;
my $EDQUOT = 122;
my $SIGCHLD_MASK = pack('Q', 1 << 16);
my $EMPTY_MASK = pack('Q', 0);

# syscall() passes strings by address and may write to them, so never literals.
sub mount_fs {
  my ($source, $target, $type, $flags, $data) = @_;
  syscall($SYS_mount, $source, $target, $type, 0 + $flags, $data) == 0;
}

sub bind_mount {
  my ($source, $target) = @_;
  my $none = '';
  syscall($SYS_mount, $source, $target, $none, 0 + ($MS_BIND | $MS_REC), 0) == 0;
}

# Opens $path without following a symbolic link in any part of it: the parent resolved
# every path, so a link found now was planted since (by another sandbox of this user).
# Mounts then go through /proc/self/fd, so that nothing is looked up twice.
sub open_exact {
  my ($path, $step) = @_;
  sysopen(my $handle, $path, $O_PATH | $O_NOFOLLOW) or fail($step);
  my $found = readlink('/proc/self/fd/' . fileno($handle)) // '';
  my @stat = stat($handle);
  if ($found ne $path || !@stat || ($stat[2] & 0170000) == 0120000) {
    $! = 40;    # ELOOP
    fail($step);
  }
  return $handle;
}

sub fd_path { '/proc/self/fd/' . fileno($_[0]) }

# The mounts of this mount namespace, in mount order: [mount point, per-mount options].
sub read_mounts {
  open(my $mountinfo, '<', '/proc/self/mountinfo') or return ();
  my @mounts;
  while (my $line = <$mountinfo>) {
    my @fields = split / /, $line;
    my $point = $fields[4] =~ s/\\([0-7]{3})/chr(oct($1))/ger;
    push @mounts, [$point, $fields[5]];
  }
  return @mounts;
}

# Whether $path is one of the paths in %$set or lies below one of them.
sub at_or_below {
  my ($path, $set) = @_;
  while (1) {
    return 1 if $set->{$path};
    return 0 if $path eq '/';
    $path =~ s{/[^/]*\z}{};
    $path = '/' if $path eq '';
  }
}

# Makes the topmost mount at $point read-only, keeping its locked options.
sub remount_read_only {
  my ($point, $options) = @_;
  my $flags = $MS_REMOUNT | $MS_BIND | $MS_RDONLY;
  for my $option (split /,/, $options) {
    $flags |= $KEPT_MOUNT_FLAGS{$option} // 0;
  }
  my $none = '';
  return 1 if syscall($SYS_mount, $none, $point, $none, 0 + $flags, 0) == 0;
  # A mount the host made read-only may refuse the remount; it is read-only already.
  return ",$options," =~ /,ro,/;
}

sub remount_exact_read_only {
  my ($point) = @_;
  my $handle = open_exact($point, "read-only $point");
  remount_read_only(fd_path($handle), options_of($point)) or fail("read-only $point");
}

sub options_of {
  my ($point) = @_;
  my ($found) = reverse grep { $_->[0] eq $point } read_mounts();
  return $found ? $found->[1] : '';
}

sub make_path {
  my ($path) = @_;
  my $so_far = '';
  for my $part (grep { length } split m{/}, $path) {
    $so_far .= "/$part";
    mkdir($so_far, 0755) unless -d $so_far;
  }
}

sub write_file {
  my ($path, $content) = @_;
  open(my $handle, '>', $path) or return 0;
  my $written = syswrite($handle, $content);
  close $handle;
  defined $written;
}

# Like execvp's search, but an unreadable PATH entry does not turn "not found" into
# "permission denied".
sub find_command {
  my ($name, $search_path) = @_;
  return $name if $name =~ m{/};
  for my $dir (split /:/, $search_path // '') {
    my $candidate = (length $dir ? $dir : '.') . "/$name";
    return $candidate if -f $candidate && -x _;
  }
  $! = 2;    # ENOENT
  return undef;
}

sub bring_loopback_up {
  socket(my $socket, 2, 2, 0) or fail('loopback');    # AF_INET, SOCK_DGRAM
  my $request = pack('a16 x24', 'lo');
  ioctl($socket, 0x8913, $request) or fail('loopback');    # SIOCGIFFLAGS
  my $flags = unpack('x16 s', $request);
  my $update = pack('a16 s x22', 'lo', $flags | 1);         # IFF_UP
  ioctl($socket, 0x8914, $update) or fail('loopback');     # SIOCSIFFLAGS
}

# Paths under the host's /tmp that the command needs, and paths that `hide` would cover,
# are opened before a tmpfs hides them, then bound back from the open descriptor.
my @held;
my $empty_file = '/tmp/.nsbox-empty';
my (@exec_argv, @exec_env, $exec_cwd, $map_uid, $map_gid);

my ($keep_ipc_fd, $seccomp_filter, $user_mode);

while (@plan) {
  my $op = shift @plan;
  if ($op eq 'hold') {
    my $path = shift @plan;
    push @held, open_exact($path, "hold $path");
  } elsif ($op eq 'tmpfs') {
    my ($target, $options) = splice(@plan, 0, 2);
    my $type = 'tmpfs';
    my $handle = open_exact($target, "tmpfs $target");
    mount_fs($type, fd_path($handle), $type, $MS_NOSUID | $MS_NODEV, $options) or fail("tmpfs $target");
  } elsif ($op eq 'bind') {
    my ($index, $target, $kind) = splice(@plan, 0, 3);
    my $handle = $held[$index];
    if ($kind eq 'dir') {
      make_path($target);
    } else {
      make_path($target =~ s{/[^/]*$}{}r);
      open(my $placeholder, '>>', $target) or fail("bind $target");
      close $placeholder;
    }
    my $target_handle = open_exact($target, "bind $target");
    bind_mount(fd_path($handle), fd_path($target_handle)) or fail("bind $target");
  } elsif ($op eq 'hidefile') {
    # An empty file of the private /tmp, bound over the file to hide; the empty file's
    # own name is removed once the plan is done.
    my $target = shift @plan;
    unless (-e $empty_file) {
      open(my $empty, '>', $empty_file) or fail("hide $target");
      close $empty;
    }
    my $target_handle = open_exact($target, "hide $target");
    bind_mount($empty_file, fd_path($target_handle)) or fail("hide $target");
  } elsif ($op eq 'mkdir') {
    make_path(shift @plan);
  } elsif ($op eq 'devpts') {
    # A devpts of its own: no terminal of the host is in it, and its ptmx makes new ones.
    my $target = shift @plan;
    make_path($target);
    my $type = 'devpts';
    mount_fs($type, $target, $type, $MS_NOSUID | $MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=620')
      or fail("devpts $target");
  } elsif ($op eq 'symlink') {
    my ($link_target, $link) = splice(@plan, 0, 2);
    symlink($link_target, $link) or fail("symlink $link");
  } elsif ($op eq 'readonly') {
    remount_exact_read_only(shift @plan);
  } elsif ($op eq 'readonly-bind') {
    # A path of /proc that is no mount of its own: bound onto itself, then made read-only.
    my $target = shift @plan;
    next unless -e $target;
    my $handle = open_exact($target, "read-only $target");
    bind_mount(fd_path($handle), fd_path($handle)) or fail("read-only $target");
    remount_exact_read_only($target);
  } elsif ($op eq 'readonly-tree') {
    # The mount at $root and every mount below it, such as each cgroup v1 hierarchy.
    my $root = shift @plan;
    for my $mount (read_mounts()) {
      my ($point, $options) = @$mount;
      next unless $point eq $root || index($point, "$root/") == 0;
      next unless lstat($point);    # hidden under a mount of the sandbox: out of reach
      remount_read_only($point, $options) or fail("read-only $point");
    }
  } elsif ($op eq 'readonly-all') {
    # Every mount but /proc, the sandbox's own mounts (its /tmp, /dev/shm; what is bound
    # back into /tmp turns read-only too), and the writable paths with what is below them.
    my %own = map { $_ => 1 } splice(@plan, 0, shift @plan);
    my %writable = map { $_ => 1 } splice(@plan, 0, shift @plan);
    my @mounts = read_mounts();
    # Walked last mount first, so that what covers a mount is known when it is reached.
    my %later;
    for my $mount (reverse @mounts) {
      my ($point, $options) = @$mount;
      # A mount that a later one covers (the host's mounts under /tmp or a hidden home)
      # cannot be reached by its path, nor by the command: nothing to make read-only.
      my $is_covered = at_or_below($point, \%later);
      $later{$point} = 1;
      next if $is_covered || $own{$point} || at_or_below($point, \%writable);
      next if $point eq '/proc' || index($point, '/proc/') == 0;
      # A host mount under the private /tmp that was not bound back is out of reach, and
      # its mount point is gone with the host's /tmp.
      next unless lstat($point);
      remount_read_only($point, $options) or fail("read-only $point");
    }
  } elsif ($op eq 'loopback') {
    bring_loopback_up();
  } elsif ($op eq 'hostname') {
    my $name = shift @plan;
    syscall($SYS_sethostname, $name, length $name) == 0 or fail('hostname');
  } elsif ($op eq 'user') {
    ($user_mode, $map_uid, $map_gid) = splice(@plan, 0, 3);
  } elsif ($op eq 'keep-fd') {
    $keep_ipc_fd = shift @plan;
  } elsif ($op eq 'seccomp') {
    $seccomp_filter = pack('H*', shift @plan);
  } elsif ($op eq 'cwd') {
    $exec_cwd = shift @plan;
  } elsif ($op eq 'env') {
    push @exec_env, shift @plan;
  } elsif ($op eq 'exec') {
    @exec_argv = @plan;
    @plan = ();
  } else {
    $! = 22;
    fail("plan $op");
  }
}
close $_ for @held;
unlink $empty_file;

# The caller's session keyring holds its secrets (and a key planted there would outlive
# the sandbox): the command gets an empty one. Past the user's key quota, sandboxes share
# one keyring of nsbox's instead, still not the caller's.
sub join_fresh_session_keyring {
  return if syscall($SYS_keyctl, $KEYCTL_JOIN_SESSION_KEYRING, 0) >= 0;
  return if $! == 38;    # ENOSYS: a kernel without keyrings shares none
  if ($! == $EDQUOT) {
    my $shared = 'nsbox';
    return if syscall($SYS_keyctl, $KEYCTL_JOIN_SESSION_KEYRING, $shared) >= 0;
  }
  fail('keyring');
}

# Only stdio, and the IPC channel when there is one, reach the command: every other
# descriptor, such as one the caller left open without O_CLOEXEC, closes at exec.
sub close_inherited_fds {
  if (syscall($SYS_close_range, 3, 0xFFFFFFFF, $CLOSE_RANGE_CLOEXEC) != 0) {
    # Kernels before 5.11.
    opendir(my $fds, '/proc/self/fd') or fail('close fds');
    for my $fd (grep { /^\d+$/ && $_ > 2 } readdir $fds) {
      syscall($SYS_fcntl, 0 + $fd, $F_SETFD, $FD_CLOEXEC);
    }
    closedir $fds;
  }
  if (defined $keep_ipc_fd) {
    syscall($SYS_fcntl, 0 + $keep_ipc_fd, $F_SETFD, 0) == 0 or fail('ipc fd');
  }
}

# Learn about child exits through a signalfd: a SIGCHLD that arrives while the
# loop below is busy is never lost, and no signal handler is involved.
syscall($SYS_rt_sigprocmask, 0, $SIGCHLD_MASK, 0, 8) == 0 or fail('sigprocmask');
my $signal_fd = syscall($SYS_signalfd4, -1, $SIGCHLD_MASK, 8, 0x80000);
fail('signalfd') if $signal_fd < 0;
open(my $signals, '<&=', $signal_fd) or fail('signalfd');

# Everything the command needs is prepared before fork(): after it, every page the
# child touches is a copy-on-write fault, and those cost more than the work itself.
%ENV = map { split(/=/, $_, 2) } @exec_env;
my $program = find_command($exec_argv[0], $ENV{PATH});
my $exec_errno = 0 + $!;

# A sandbox killed during its setup never starts its command.
{
  my $wanted = '';
  vec($wanted, $CONTROL_FD, 1) = 1;
  read_control() if select(my $ready = $wanted, undef, undef, 0) > 0;
}

my $command_pid = fork();
fail('fork') unless defined $command_pid;

if ($command_pid == 0) {
  # A nested user namespace in which the command runs: it owns none of the sandbox's
  # mounts, so the command cannot undo them, whatever its uid there.
  my $namespaces = $user_mode eq 'root' ? $CLONE_ROOT_NAMESPACES : $CLONE_NEWUSER;
  syscall($SYS_unshare, $namespaces) == 0 or fail('user namespace');
  write_file('/proc/self/uid_map', "$map_uid 0 1\n") or fail('uid_map');
  write_file('/proc/self/setgroups', "deny\n") or fail('setgroups');
  write_file('/proc/self/gid_map', "$map_gid 0 1\n") or fail('gid_map');
  # A root caller stays uid 0 in the default mode; SECBIT_NOROOT (locked) keeps execve()
  # from handing it capabilities all the same.
  syscall($SYS_prctl, $PR_SET_SECUREBITS, 3, 0, 0, 0) == 0 or fail('securebits')
    if $map_uid == 0 && $user_mode eq 'self';
  syscall($SYS_prctl, $PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 or fail('no_new_privs');
  syscall($SYS_setsid) >= 0 or fail('setsid');
  join_fresh_session_keyring();
  syscall($SYS_rt_sigprocmask, 2, $EMPTY_MASK, 0, 8) == 0 or fail('sigprocmask');
  if (defined $exec_cwd) {
    chdir($exec_cwd) or fail("cwd $exec_cwd");
  }
  open(STDERR, '>&', $COMMAND_STDERR_FD) or fail('stderr');
  open(my $command_stderr, '<&=', $COMMAND_STDERR_FD);
  close $command_stderr;
  close_inherited_fds();
  if (defined $seccomp_filter) {
    # struct sock_fprog: the instruction count, then a pointer to the instructions.
    my $filter_program = pack('S x![P] P', length($seccomp_filter) / 8, $seccomp_filter);
    syscall($SYS_prctl, $PR_SET_SECCOMP, $SECCOMP_MODE_FILTER, $filter_program, 0, 0) == 0
      or fail('seccomp');
  }
  $! = $exec_errno;
  { exec { $program } @exec_argv if defined $program; }
  report('exec-error ' . (0 + $!));
  exit 127;
}

# From here on, an end of this init without a report means it was killed with its command.
report('started');

# PID 1 keeps only the control socket and the signalfd: the command's stdio ends
# must close as soon as the command (and whatever it started) is gone.
close STDIN;
close STDOUT;
for my $fd ($COMMAND_STDERR_FD, 5) {
  my $handle;
  close $handle if open($handle, '<&=', $fd);
}

sub handle_requests {
  while ($pending =~ s/^([^\n]*)\n//) {
    my $request = $1;
    kill(0 + $1, $command_pid) if $request =~ /^kill (\d+)$/;
  }
}

# Signals asked for before the command existed reach it now.
handle_requests();

my $status;
while (!defined $status) {
  my $wanted = '';
  vec($wanted, $CONTROL_FD, 1) = 1;
  vec($wanted, $signal_fd, 1) = 1;
  next if select(my $ready = $wanted, undef, undef, undef) < 0;
  if (vec($ready, $signal_fd, 1)) {
    sysread($signals, my $ignored, 4096);
    while ((my $pid = waitpid(-1, 1)) > 0) {    # WNOHANG; also reaps orphans
      $status = $? if $pid == $command_pid;
    }
  }
  if (!defined $status && vec($ready, $CONTROL_FD, 1)) {
    read_control();
    handle_requests();
  }
}

my $signal = $status & 127;
# CPU time of every process PID 1 reaped: the command and all orphans it left.
my (undef, undef, $children_user, $children_system) = times;
report(sprintf('cpu %d', ($children_user + $children_system) * 1000));
report($signal ? "signal $signal" : 'exit ' . ($status >> 8));
# exit_group(2) directly: Perl's own exit would first tear its interpreter down.
syscall($SYS_exit_group, $signal ? 128 + $signal : $status >> 8);
