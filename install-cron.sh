#!/usr/bin/env bash
# Installs gingr-sync as an unattended hourly job (cron by default, or a systemd timer) and
# removes it again. Every change is announced; --dry-run only announces.
set -euo pipefail

readonly PROG=install-cron.sh
# The marker that identifies what this script wrote: the cron entry ends with it, and the unit files
# and the logrotate rule start with it, so --uninstall never touches anything written by hand.
readonly MARKER='# gingr-sync (managed by install-cron.sh)'
readonly DEFAULT_SCHEDULE='0 * * * *'
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

usage() {
  cat <<EOF
Usage: ./$PROG [--binary PATH] [--env-file PATH] [--log PATH] [--lock PATH]
                       [--schedule "CRON"] [--systemd] [--uninstall [--purge]] [--dry-run] [--help]

Installs gingr-sync to run unattended: copies dist/gingr-sync (built by ./build.sh) to --binary,
creates a commented env file template when there is none, adds one entry to your crontab (or, with
--systemd, a oneshot service and a timer), adds a logrotate rule, then runs \`gingr-sync doctor\`.
Running it again updates the entry instead of adding another.

  --binary PATH      where the binary is installed      (default /usr/local/bin/gingr-sync)
                     without dist/ beside this script, a binary already there is used as it is
  --env-file PATH    settings and secrets, mode 600      (default /etc/gingr-sync/gingr-sync.env)
  --log PATH         each run's output is appended here (default /var/log/gingr-sync.log)
  --lock PATH        flock file so runs never overlap   (default /var/lock/gingr-sync.lock,
                     or /tmp/gingr-sync.lock when /var/lock is absent)
  --schedule "CRON"  five cron fields or @hourly/@daily/... (default "$DEFAULT_SCHEDULE");
                     with --systemd only the default (OnCalendar=hourly), @hourly and @daily
  --systemd          install gingr-sync.service + gingr-sync.timer instead of a cron entry
  --uninstall        remove the cron entry, the units and the logrotate rule that this script wrote;
                     the env file, the binary and the log stay
  --purge            with --uninstall: remove the env file, the binary, the log and the lock too
  --dry-run          print every action as "would: ..." and change nothing
  --help             this text

Exit codes: 0 done (even when doctor reports a problem: fix it and re-run doctor),
            1 a step failed, 2 usage error or missing prerequisite (nothing was changed).

Test hook: GINGR_SYNC_ROOT (default empty) is prefixed to /etc/logrotate.d and /etc/systemd/system,
so tests can run this script without touching the real system.
EOF
}

say() { printf '%s\n' "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$PROG" "$1" >&2; exit "${2:-1}"; }
usage_error() {
  printf '%s: %s\n' "$PROG" "$1" >&2
  usage >&2
  exit 2
}

# Runs a command that changes something, or only shows it under --dry-run.
act() {
  if [[ $DRY_RUN == 1 ]]; then
    say "would: $(quote_words "$@")"
  else
    "$@"
  fi
}

quote_words() {
  local out='' word
  for word in "$@"; do out+="${out:+ }$(printf '%q' "$word")"; done
  printf '%s' "$out"
}

# For /bin/sh, which runs the cron command: single quotes, each ' written as '\''.
sh_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# cron cuts the command at the first unescaped % (the rest becomes stdin), so a % in a path is
# written \% ; cron removes the backslash before /bin/sh sees the line.
cron_escape() { printf '%s' "${1//%/\\%}"; }

# For ExecStart: systemd expands %specifiers everywhere and treats \ as an escape inside quotes;
# it expands $VARIABLES in the arguments, but not in the executable's path ($2 = executable).
systemd_quote() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//%/%%}
  [[ ${2-} == executable ]] || s=${s//\$/\$\$}
  printf '"%s"' "$s"
}

absolute() {
  if [[ $1 == /* ]]; then printf '%s' "$1"; else printf '%s/%s' "$PWD" "$1"; fi
}

# --- arguments -------------------------------------------------------------------------------

BINARY=/usr/local/bin/gingr-sync
ENV_FILE=/etc/gingr-sync/gingr-sync.env
LOG_FILE=/var/log/gingr-sync.log
if [[ -d /var/lock ]]; then LOCK_FILE=/var/lock/gingr-sync.lock; else LOCK_FILE=/tmp/gingr-sync.lock; fi
SCHEDULE=$DEFAULT_SCHEDULE
SYSTEMD=0 UNINSTALL=0 PURGE=0 DRY_RUN=0

while (($# > 0)); do
  option=$1 value='' has_value=0
  if [[ $option == --*=* ]]; then
    value=${option#*=} option=${option%%=*} has_value=1
  fi
  case $option in
    --binary | --env-file | --log | --lock | --schedule)
      if ((has_value == 0)); then
        (($# >= 2)) || usage_error "$option needs a value"
        value=$2
        shift
      fi
      [[ -n $value ]] || usage_error "$option needs a non-empty value"
      case $option in
        --binary) BINARY=$value ;;
        --env-file) ENV_FILE=$value ;;
        --log) LOG_FILE=$value ;;
        --lock) LOCK_FILE=$value ;;
        --schedule) SCHEDULE=$value ;;
      esac
      ;;
    --systemd | --uninstall | --purge | --dry-run | --help)
      ((has_value == 0)) || usage_error "$option takes no value"
      case $option in
        --systemd) SYSTEMD=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --dry-run) DRY_RUN=1 ;;
        --help) usage; exit 0 ;;
      esac
      ;;
    -*) usage_error "unknown option '$option'" ;;
    *) usage_error "unexpected argument '$option'" ;;
  esac
  shift
done

((PURGE == 0 || UNINSTALL == 1)) || usage_error "--purge only goes with --uninstall"

for name in BINARY ENV_FILE LOG_FILE LOCK_FILE; do
  # A newline would split the cron entry in two; other control characters are never intended.
  [[ ${!name} != *[[:cntrl:]]* ]] || usage_error "a path holds a control character: $(printf '%q' "${!name}")"
  printf -v "$name" '%s' "$(absolute "${!name}")"
done
readonly BINARY ENV_FILE LOG_FILE LOCK_FILE SYSTEMD UNINSTALL PURGE DRY_RUN

# Five fields of digits, names, * , / - (no spaces inside a field), or one @macro; anything else
# (a newline, a sixth field that would become part of the command) is refused.
cron_field='[0-9A-Za-z*,/-]+'
if [[ ! $SCHEDULE =~ ^[[:blank:]]*(${cron_field}[[:blank:]]+){4}${cron_field}[[:blank:]]*$ &&
  ! $SCHEDULE =~ ^@(hourly|daily|weekly|monthly|yearly|annually|midnight)$ ]]; then
  usage_error "--schedule wants five cron fields (e.g. \"$DEFAULT_SCHEDULE\") or @hourly/@daily/..."
fi
read -r -a schedule_fields <<<"$SCHEDULE"
SCHEDULE="${schedule_fields[*]}"
readonly SCHEDULE

ROOT=${GINGR_SYNC_ROOT:-}
readonly LOGROTATE_DIR="$ROOT/etc/logrotate.d"
readonly LOGROTATE_RULE="$LOGROTATE_DIR/gingr-sync"
readonly UNIT_DIR="$ROOT/etc/systemd/system"
readonly SERVICE_UNIT="$UNIT_DIR/gingr-sync.service"
readonly TIMER_UNIT="$UNIT_DIR/gingr-sync.timer"
readonly DIST_BINARY="$SCRIPT_DIR/dist/gingr-sync"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gingr-sync-install.XXXXXX")
readonly WORK
trap 'rm -rf -- "$WORK"' EXIT

has_marker() {
  local first
  [[ -f $1 ]] && IFS= read -r first <"$1" && [[ $first == "$MARKER" ]]
}

# --- the crontab -----------------------------------------------------------------------------

# The hard limit on one run, past gingr-sync's own --max-runtime (55 minutes by default), so a run
# that could not stop itself is ended (SIGTERM, then SIGKILL a minute later) before the next hour.
readonly HARD_LIMIT_SECONDS=3480
readonly HARD_KILL_AFTER_SECONDS=60
# flock's exit code when the lock is held: the skipped run then says so in the log.
readonly LOCK_HELD_CODE=75

cron_entry() {
  local flock_bin timeout_bin log skipped
  flock_bin=$(command -v flock)
  timeout_bin=$(command -v timeout)
  log=$(sh_quote "$LOG_FILE")
  skipped=$(sh_quote "skipped: the previous run still holds $LOCK_FILE")
  # flock -n: a run that would overlap a still-running one exits at once instead of queueing, and
  # writes one line saying so (else an hourly run that never ends would silence every later one).
  # The binary reads its secrets from the env file itself: none of them is ever on this line.
  cron_escape "$(printf '%s %s -n -E %s %s %s -k %s %s %s --env-file %s >> %s 2>&1; [ $? != %s ] || printf '\''%%s WARN  %%s\\n'\'' "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)" %s >> %s' \
    "$SCHEDULE" "$(sh_quote "$flock_bin")" "$LOCK_HELD_CODE" "$(sh_quote "$LOCK_FILE")" \
    "$(sh_quote "$timeout_bin")" "$HARD_KILL_AFTER_SECONDS" "$HARD_LIMIT_SECONDS" \
    "$(sh_quote "$BINARY")" "$(sh_quote "$ENV_FILE")" "$log" "$LOCK_HELD_CODE" "$skipped" "$log")"
  printf ' %s' "$MARKER"
}

# Reads the current crontab into $WORK/crontab.old (empty when the user has none).
read_crontab() {
  local rc=0
  LC_ALL=C crontab -l >"$WORK/crontab.old" 2>"$WORK/crontab.err" || rc=$?
  if ((rc != 0)); then
    grep -qi 'no crontab' "$WORK/crontab.err" ||
      die "crontab -l failed: $(tr '\n' ' ' <"$WORK/crontab.err")"
    : >"$WORK/crontab.old"
  fi
}

# Writes $WORK/crontab.new: the old table with the managed entry replaced in place by $1, or
# appended when absent, or dropped when $1 is empty. Every other line is copied byte for byte.
edit_crontab() {
  # ENVIRON, not awk -v: -v would interpret the backslashes of a \% escape.
  ENTRY=$1 MARK=$MARKER LC_ALL=C awk '
    function managed(line) { return substr(line, length(line) - length(ENVIRON["MARK"]) + 1) == ENVIRON["MARK"] }
    managed($0) { if (!done && ENVIRON["ENTRY"] != "") print ENVIRON["ENTRY"]; done = 1; next }
    { print }
    END { if (!done && ENVIRON["ENTRY"] != "") print ENVIRON["ENTRY"] }
  ' "$WORK/crontab.old" >"$WORK/crontab.new"
}

# $1 says what changes, $2 what is found when nothing needs to.
apply_crontab() {
  if cmp -s "$WORK/crontab.old" "$WORK/crontab.new"; then
    say "crontab: $2"
  elif [[ $DRY_RUN == 1 ]]; then
    say "would: crontab: $1"
  elif [[ -s $WORK/crontab.new ]]; then
    crontab "$WORK/crontab.new" || die "crontab refused the new table"
    say "crontab: $1"
  else
    # The entry was the whole table: remove the table, as there was none before the install.
    crontab -r || die "crontab -r failed"
    say "crontab: $1"
  fi
}

install_cron_entry() {
  local entry
  entry=$(cron_entry)
  read_crontab
  edit_crontab "$entry"
  apply_crontab "install the entry: $entry" "the entry is already installed: $entry"
}

remove_cron_entry() {
  read_crontab
  edit_crontab ''
  apply_crontab "remove the gingr-sync entry" "no gingr-sync entry"
}

# --- files -----------------------------------------------------------------------------------

# Writes stdin to $1 with mode $2 through a temp file in the same directory and a rename, so a
# reader (or a running binary) never sees a half-written file.
write_atomically() {
  local target=$1 mode=$2 tmp
  if [[ $DRY_RUN == 1 ]]; then
    cat >/dev/null
    say "would: write $target (mode $mode)"
    return
  fi
  mkdir -p -- "$(dirname -- "$target")"
  tmp=$(mktemp "$(dirname -- "$target")/.$(basename -- "$target").XXXXXX")
  if ! { cat >"$tmp" && chmod "$mode" "$tmp" && mv -f -- "$tmp" "$target"; }; then
    rm -f -- "$tmp"
    die "could not write $target"
  fi
  say "wrote $target"
}

install_binary() {
  if [[ -f $DIST_BINARY ]]; then
    if [[ -f $BINARY ]] && cmp -s "$DIST_BINARY" "$BINARY" && [[ $(stat -c %a "$BINARY") == 755 ]]; then
      say "binary: $BINARY is already the current build"
    else
      write_atomically "$BINARY" 755 <"$DIST_BINARY"
    fi
  else
    say "binary: no $DIST_BINARY here, using $BINARY as it is"
  fi
}

env_template() {
  cat <<EOF
# gingr-sync settings, read by: gingr-sync --env-file $ENV_FILE
# Keep this file mode 600: it holds the Gingr API key and the database password.
# Uncomment and fill in the lines below, then check them with:
#   $BINARY doctor --env-file $ENV_FILE

# The Tailtown PostgreSQL database.
#DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/DATABASE

# The Gingr account: its subdomain (the NAME in https://NAME.gingrapp.com) and an API key.
#GINGR_SUBDOMAIN=NAME
#GINGR_API_KEY=KEY

# Optional: another Gingr API root (default https://NAME.gingrapp.com/api/v1).
#GINGR_BASE_URL=
# Optional: a URL pinged after each run, so a monitor notices when runs stop.
#GINGR_SYNC_PING_URL=
# Optional: a config file with the settings of several tenants.
#GINGR_SYNC_CONFIG=
EOF
}

ensure_env_file() {
  local dir mode
  if [[ -e $ENV_FILE ]]; then
    mode=$(stat -c %a -- "$ENV_FILE")
    if (((8#$mode & 8#077) != 0)); then
      warn "$ENV_FILE is mode $mode: other users can read the secrets in it; run: chmod 600 $(printf '%q' "$ENV_FILE")"
    fi
    say "env file: $ENV_FILE exists, left as it is"
    return
  fi
  dir=$(dirname -- "$ENV_FILE")
  if [[ ! -d $dir ]]; then
    act mkdir -p -- "$(dirname -- "$dir")"
    act mkdir -m 700 -- "$dir"
  fi
  if [[ $DRY_RUN == 1 ]]; then
    say "would: create $ENV_FILE (mode 600) from a commented template"
    return
  fi
  # umask first, so the file is never readable by others, not even for an instant; noclobber (-C)
  # so that a file appearing meanwhile is not overwritten.
  (umask 077 && set -C && env_template >"$ENV_FILE") || die "could not create $ENV_FILE"
  chmod 600 -- "$ENV_FILE"
  say "env file: created $ENV_FILE (mode 600) from a template: fill it in"
}

ensure_log_file() {
  if [[ ! -e $LOG_FILE ]]; then
    act mkdir -p -- "$(dirname -- "$LOG_FILE")"
    act touch -- "$LOG_FILE"
  fi
  [[ -d $(dirname -- "$LOCK_FILE") ]] || act mkdir -p -- "$(dirname -- "$LOCK_FILE")"
}

logrotate_rule() {
  # No copytruncate: every run opens the log anew, so a plain rename loses nothing, whereas
  # copytruncate drops whatever is written between its copy and its truncate. delaycompress: a run
  # still writing to the renamed file is not compressed under its feet.
  cat <<EOF
$MARKER
"$LOG_FILE" {
    weekly
    rotate 8
    compress
    delaycompress
    missingok
    notifempty
}
EOF
}

install_logrotate_rule() {
  if [[ ! -d $LOGROTATE_DIR ]]; then
    say "logrotate: no $LOGROTATE_DIR, skipped (rotate $LOG_FILE yourself)"
  elif [[ -e $LOGROTATE_RULE ]] && ! has_marker "$LOGROTATE_RULE"; then
    warn "$LOGROTATE_RULE was not written by $PROG: left as it is"
  else
    logrotate_rule | write_atomically "$LOGROTATE_RULE" 644
  fi
}

# Removes a file this script wrote (it starts with the marker); anything else stays.
remove_managed() {
  if [[ ! -e $1 ]]; then
    return
  elif has_marker "$1"; then
    act rm -f -- "$1"
    [[ $DRY_RUN == 1 ]] || say "removed $1"
  else
    warn "$1 was not written by $PROG: left as it is"
  fi
}

# --- systemd ---------------------------------------------------------------------------------

on_calendar() {
  case $SCHEDULE in
    "$DEFAULT_SCHEDULE" | @hourly) printf 'hourly' ;;
    @daily | @midnight) printf 'daily' ;;
    *) return 1 ;;
  esac
}

service_unit() {
  # No flock here: systemd never starts a oneshot service again while it is still running.
  cat <<EOF
$MARKER
[Unit]
Description=Copy the recent window of Gingr reservations into the Tailtown database
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
# The hard limit on one run (the cron entry's timeout): past it systemd stops the service.
TimeoutStartSec=${HARD_LIMIT_SECONDS}s
ExecStart=$(systemd_quote "$BINARY" executable) --env-file $(systemd_quote "$ENV_FILE")
StandardOutput=append:${LOG_FILE//%/%%}
StandardError=inherit
EOF
}

timer_unit() {
  cat <<EOF
$MARKER
[Unit]
Description=Run gingr-sync on a schedule

[Timer]
OnCalendar=$1
# A run missed while the machine was off happens at the next boot.
Persistent=true

[Install]
WantedBy=timers.target
EOF
}

have_systemctl() { command -v systemctl >/dev/null; }

install_units() {
  local calendar
  calendar=$(on_calendar)
  service_unit | write_atomically "$SERVICE_UNIT" 644
  timer_unit "$calendar" | write_atomically "$TIMER_UNIT" 644
  if have_systemctl; then
    act systemctl daemon-reload || die "systemctl daemon-reload failed"
    act systemctl enable --now gingr-sync.timer || die "systemctl enable --now gingr-sync.timer failed"
  else
    warn "systemctl not found: the units are written but not enabled; on a systemd machine run: systemctl daemon-reload && systemctl enable --now gingr-sync.timer"
  fi
}

remove_units() {
  if ! has_marker "$SERVICE_UNIT" && ! has_marker "$TIMER_UNIT"; then
    remove_managed "$TIMER_UNIT" # only warns, when a unit of that name was written by hand
    remove_managed "$SERVICE_UNIT"
    return
  fi
  if have_systemctl; then
    act systemctl disable --now gingr-sync.timer || warn "systemctl disable --now gingr-sync.timer failed"
  fi
  remove_managed "$TIMER_UNIT"
  remove_managed "$SERVICE_UNIT"
  if have_systemctl; then
    act systemctl daemon-reload || warn "systemctl daemon-reload failed"
  fi
}

# --- the two jobs ----------------------------------------------------------------------------

# Every check that can refuse comes before the first change, so exit 2 means nothing was changed.
check_prerequisites() {
  if ((UNINSTALL == 0)); then
    [[ -f $DIST_BINARY || -x $BINARY ]] ||
      die "no binary: neither $DIST_BINARY (run ./build.sh first) nor an executable $BINARY exists" 2
    [[ -f $DIST_BINARY || ! -d $BINARY ]] || die "$BINARY is a directory" 2
  fi
  if ((SYSTEMD == 1 && UNINSTALL == 0)); then
    on_calendar >/dev/null ||
      die "with --systemd the schedule is the default (hourly), @hourly or @daily; for another, edit OnCalendar= in $TIMER_UNIT after installing" 2
    # No escaping helps here: systemd refuses to run an executable whose path holds these.
    [[ $BINARY != *[\'\"\\]* ]] || die "systemd cannot run an executable whose path holds a quote or a backslash: choose another --binary" 2
  elif ((SYSTEMD == 0 && UNINSTALL == 0)); then
    command -v crontab >/dev/null ||
      die "crontab not found: install cron (e.g. apt-get install cron), or use --systemd" 2
    command -v flock >/dev/null ||
      die "flock not found (it keeps two runs from overlapping): install util-linux, which provides it" 2
    command -v timeout >/dev/null ||
      die "timeout not found (it bounds each run): install coreutils, which provides it" 2
  fi
  if ((UNINSTALL == 0)); then
    # The lock's folder too: each run creates the lock file there.
    local dirs=("$(dirname -- "$LOG_FILE")" "$(dirname -- "$LOCK_FILE")")
    [[ ! -f $DIST_BINARY ]] || dirs+=("$(dirname -- "$BINARY")")
    [[ -e $ENV_FILE ]] || dirs+=("$(dirname -- "$ENV_FILE")")
    [[ ! -d $LOGROTATE_DIR ]] || dirs+=("$LOGROTATE_DIR")
    ((SYSTEMD == 0)) || dirs+=("$UNIT_DIR")
    check_writable "${dirs[@]}"
  fi
}

# The nearest folder that exists on the way up to $1: where its missing parts would be made.
existing_parent() {
  local path=$1
  while [[ ! -e $path ]]; do path=$(dirname -- "$path"); done
  printf '%s' "$path"
}

# Refuses, before any change, folders this user cannot write (the usual cause: not run as root).
check_writable() {
  local dir at
  for dir in "$@"; do
    at=$(existing_parent "$dir")
    [[ -w $at ]] || die "cannot write in $at: run as a user who can, e.g. sudo ./$PROG ..." 2
  done
}

run_doctor() {
  local rc=0 shown_env shown_bin
  shown_env=$(printf '%q' "$ENV_FILE") shown_bin=$(printf '%q' "$BINARY")
  if [[ $DRY_RUN == 1 ]]; then
    say "would: $shown_bin doctor --env-file $shown_env"
    return
  fi
  say "checking the installation: $shown_bin doctor --env-file $shown_env"
  "$BINARY" doctor --env-file "$ENV_FILE" </dev/null || rc=$?
  if ((rc == 0)); then
    say "doctor: all checks passed"
  else
    warn "doctor found a problem (exit $rc). The job is installed and will keep failing until it is fixed: edit $shown_env, then run: $shown_bin doctor --env-file $shown_env"
  fi
}

print_next_steps() {
  local shown_env shown_bin
  shown_env=$(printf '%q' "$ENV_FILE") shown_bin=$(printf '%q' "$BINARY")
  say ""
  say "Next:"
  if ((SYSTEMD == 1)); then
    say "  see the job:          systemctl list-timers gingr-sync.timer"
  else
    say "  see the job:          crontab -l"
  fi
  say "  follow the log:       tail -f $(printf '%q' "$LOG_FILE")"
  say "  check the last sync:  $shown_bin status --env-file $shown_env"
}

do_install() {
  install_binary
  ensure_env_file
  ensure_log_file
  if ((SYSTEMD == 1)); then
    install_units
    # Switching from cron: the old entry would run the job a second time.
    if command -v crontab >/dev/null; then remove_cron_entry; fi
  else
    install_cron_entry
    # Switching from systemd: the old timer would run the job a second time.
    remove_units
  fi
  install_logrotate_rule
  run_doctor
  print_next_steps
}

do_uninstall() {
  if command -v crontab >/dev/null; then
    remove_cron_entry
  else
    say "crontab not found: no cron entry to remove"
  fi
  remove_units
  remove_managed "$LOGROTATE_RULE"
  if ((PURGE == 1)); then
    local file
    for file in "$ENV_FILE" "$BINARY" "$LOCK_FILE" "$LOG_FILE" "$LOG_FILE".[0-9]*; do
      if [[ -e $file ]]; then act rm -f -- "$file"; fi
    done
    # Only a directory named for gingr-sync (the default /etc/gingr-sync) is ours to remove.
    if [[ $(basename -- "$(dirname -- "$ENV_FILE")") == gingr-sync ]]; then
      act rmdir --ignore-fail-on-non-empty -- "$(dirname -- "$ENV_FILE")" 2>/dev/null || true
    fi
  fi
}

check_prerequisites
if ((UNINSTALL == 1)); then do_uninstall; else do_install; fi
if ((DRY_RUN == 1)); then say "dry run: nothing was changed"; fi
