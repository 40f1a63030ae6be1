#!/usr/bin/env bash
# Installs gingr-sync as unattended jobs, the hourly sync and the weekly full sync (cron by
# default, or systemd timers), and removes them again. Every change is announced; --dry-run only
# announces.
set -euo pipefail
# sudo keeps the caller's umask: with 077, the folders made here would shut out the job's own user.
umask 022

readonly PROG=install-cron.sh
# The marker that identifies what this script wrote: the hourly cron entry ends with it, and the unit
# files and the logrotate rule start with it, so --uninstall never touches anything written by hand.
readonly MARKER='# gingr-sync (managed by install-cron.sh)'
# The full sync's cron entry ends with a marker of its own: each entry is replaced or removed alone.
readonly FULL_MARKER='# gingr-sync full (managed by install-cron.sh)'
readonly DEFAULT_SCHEDULE='0 * * * *'
# Sunday 02:00, the seed's "schedule full sync once per week, Sunday 2 AM".
readonly DEFAULT_FULL_SCHEDULE='0 2 * * 0'
SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
readonly SCRIPT_DIR

usage() {
  cat <<EOF
Usage: ./$PROG [--user NAME] [--binary PATH] [--env-file PATH] [--log PATH] [--lock PATH]
                       [--schedule "CRON"] [--full-schedule "CRON" | --no-full] [--systemd]
                       [--metrics-file PATH]
                       [--uninstall [--purge]] [--dry-run] [--help]

Installs gingr-sync to run unattended, as NAME (--user) or as you: copies the binary to --binary,
creates a commented env file template when there is none, adds two entries to the job user's
crontab, the hourly sync and the weekly full sync (\`gingr-sync full\`), or, with --systemd, a
oneshot service and a timer for each; adds a logrotate rule, then runs \`gingr-sync doctor\` as the
job's user. Running it again updates the entries instead of adding others.

The binary comes from beside this script: a release folder's build for this machine
(gingr-sync-linux-x64, -x64-baseline or -arm64, by uname -m) or its gingr-sync, checked against the
sha256sums.txt there; else a checkout's dist/gingr-sync (./build.sh). Without any, the one already
at --binary is used as it is.

  --user NAME        run the jobs as NAME: NAME's crontab (crontab -u), or User= in the units; the
                     env file made here (mode 600), the log and the locks are NAME's, and all the
                     jobs use must be within NAME's reach. Root only, unless NAME is you (default: you)
  --binary PATH      where the binary is installed
  --env-file PATH    settings and secrets, mode 600
  --log PATH         each run's output is appended here
  --lock PATH        flock file so hourly runs never overlap; the full sync's is beside it, named
                     with -full (gingr-sync.lock: gingr-sync-full.lock)
  --schedule "CRON"  the hourly sync's: five cron fields or @hourly/@daily/... (default
                     "$DEFAULT_SCHEDULE")
  --full-schedule "CRON"
                     the full sync's, the same way (default "$DEFAULT_FULL_SCHEDULE", Sunday 02:00)
  --no-full          no full sync job (one installed before is removed)
  --metrics-file PATH
                     the hourly sync writes its Prometheus metrics there after each run (node_exporter's
                     textfile collector folder, which must exist and be writable by the job's user;
                     the name must end in .prom, and the path must not be a folder or a link)
  --systemd          install gingr-sync.service + .timer and gingr-sync-full.service + .timer instead
                     of cron entries (root only, and only where systemd is running); a schedule
                     becomes OnCalendar=, unless it restricts both the day of the month and of the
                     week (cron runs on either, systemd only on both)
  --uninstall        remove the cron entries, the units and the logrotate rule that this script
                     wrote; the env file, the binary and the log stay
  --purge            with --uninstall: remove the env file, the binary, the log and the locks too
  --dry-run          print every action as "would: ..." and change nothing
  --help             this text

Defaults, as root / as any other user:
  --binary    /usr/local/bin/gingr-sync / ~/.local/bin/gingr-sync
  --env-file  /etc/gingr-sync/gingr-sync.env / ~/.config/gingr-sync/gingr-sync.env
  --log       /var/log/gingr-sync/gingr-sync.log with --user, else /var/log/gingr-sync.log /
              ~/.local/state/gingr-sync/gingr-sync.log
  --lock      /var/lock/gingr-sync.lock (/tmp/gingr-sync.lock without /var/lock) /
              ~/.local/state/gingr-sync/gingr-sync.lock
Both jobs append to the log. They take separate flocks and may run at once: gingr-sync's own
per-tenant lock keeps them from writing one tenant at the same time (see the README).
A user other than root gets no logrotate rule (only root may write /etc/logrotate.d): a line says
how to rotate the log instead.

Exit codes: 0 done (even when doctor reports a problem: fix it and re-run doctor),
            1 a step failed, 2 usage error or missing prerequisite (nothing was changed).

Test hook: GINGR_SYNC_ROOT (default empty) is prefixed to /etc/logrotate.d, /etc/systemd/system and
/run/systemd/system, so tests can run this script without touching the real system.
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

# The absolute form of $1, without trailing slashes (so that ${path%/*} is its folder).
absolute() {
  local path=$1
  [[ $path == /* ]] || path=$PWD/$path
  while [[ $path == */ && $path != / ]]; do path=${path%/}; done
  printf '%s' "$path"
}

# Sets REPLY to the folder of $1, an absolute path: dirname without starting a process, which
# costs milliseconds each on a loaded machine, and the tests run this script some hundred times.
parent_dir() {
  REPLY=${1%/*}
  REPLY=${REPLY:-/}
}

# --- arguments -------------------------------------------------------------------------------

BINARY='' ENV_FILE='' LOG_FILE='' LOCK_FILE='' TARGET_USER='' METRICS_FILE=''
SCHEDULE=$DEFAULT_SCHEDULE FULL_SCHEDULE=''
SYSTEMD=0 UNINSTALL=0 PURGE=0 DRY_RUN=0 FULL=1

while (($# > 0)); do
  option=$1 value='' has_value=0
  if [[ $option == --*=* ]]; then
    value=${option#*=} option=${option%%=*} has_value=1
  fi
  case $option in
    --user | --binary | --env-file | --log | --lock | --schedule | --full-schedule | --metrics-file)
      if ((has_value == 0)); then
        (($# >= 2)) || usage_error "$option needs a value"
        value=$2
        shift
      fi
      [[ -n $value ]] || usage_error "$option needs a non-empty value"
      case $option in
        --user) TARGET_USER=$value ;;
        --binary) BINARY=$value ;;
        --env-file) ENV_FILE=$value ;;
        --log) LOG_FILE=$value ;;
        --lock) LOCK_FILE=$value ;;
        --schedule) SCHEDULE=$value ;;
        --full-schedule) FULL_SCHEDULE=$value ;;
        --metrics-file) METRICS_FILE=$value ;;
      esac
      ;;
    --systemd | --uninstall | --purge | --dry-run | --no-full | --help)
      ((has_value == 0)) || usage_error "$option takes no value"
      case $option in
        --systemd) SYSTEMD=1 ;;
        --uninstall) UNINSTALL=1 ;;
        --purge) PURGE=1 ;;
        --dry-run) DRY_RUN=1 ;;
        --no-full) FULL=0 ;;
        --help) usage; exit 0 ;;
      esac
      ;;
    -*) usage_error "unknown option '$option'" ;;
    *) usage_error "unexpected argument '$option'" ;;
  esac
  shift
done

((PURGE == 0 || UNINSTALL == 1)) || usage_error "--purge only goes with --uninstall"
[[ -z $FULL_SCHEDULE || $FULL == 1 ]] || usage_error "--full-schedule and --no-full do not go together"
: "${FULL_SCHEDULE:=$DEFAULT_FULL_SCHEDULE}"

# --- schedules -------------------------------------------------------------------------------

readonly MONTH_NAMES='jan feb mar apr may jun jul aug sep oct nov dec'
readonly DAY_NAMES='sun mon tue wed thu fri sat'

# Sets REPLY to the number that $1, one value of a cron field, stands for: digits, or a name of $4
# counted from $2. Fails when it is neither, or outside $2..$3.
cron_value() {
  local value=${1,,} name n=$2
  REPLY=''
  if [[ $value =~ ^[0-9]{1,2}$ ]]; then
    REPLY=$((10#$value))
  else
    for name in $4; do
      if [[ $value == "$name" ]]; then REPLY=$n; fi
      n=$((n + 1))
    done
    [[ -n $REPLY ]] || return 1
  fi
  ((REPLY >= $2 && REPLY <= $3))
}

# Parses one cron field $1 (values $2..$3, names $4) into ITEMS, one "FROM TO STEP" per item of its
# comma list (FROM and TO '*' for a star, STEP 1 when none). Fails on anything cron would refuse,
# and on a step after a single value ("5/10"), which only some crons accept.
cron_items() {
  local field=$1 item base step stepped from to parts
  ITEMS=()
  [[ -n $field && $field != ,* && $field != *, && $field != *,,* ]] || return 1
  IFS=, read -r -a parts <<<"$field"
  for item in "${parts[@]}"; do
    [[ $item =~ ^([^/]+)(/([0-9]{1,2}))?$ ]] || return 1
    base=${BASH_REMATCH[1]} stepped=${BASH_REMATCH[2]} step=${BASH_REMATCH[3]:-1}
    step=$((10#$step))
    ((step >= 1)) || return 1
    if [[ $base == '*' ]]; then
      from='*' to='*'
    elif [[ $base =~ ^([0-9A-Za-z]+)-([0-9A-Za-z]+)$ ]]; then
      to=${BASH_REMATCH[2]}
      cron_value "${BASH_REMATCH[1]}" "$2" "$3" "${4-}" || return 1
      from=$REPLY
      cron_value "$to" "$2" "$3" "${4-}" || return 1
      to=$REPLY
      ((from <= to)) || return 1
    else
      [[ -z $stepped ]] || return 1
      cron_value "$base" "$2" "$3" "${4-}" || return 1
      from=$REPLY to=$REPLY
    fi
    ITEMS+=("$from $to $step")
  done
}

# The five fields' ranges and names, in cron's order: minute hour day-of-month month day-of-week
# (0 and 7 are Sunday).
readonly FIELD_RANGES=('0 59' '0 23' '1 31' '1 12' '0 7')
readonly FIELD_NAMES=('' '' '' "$MONTH_NAMES" "$DAY_NAMES")

# Checks $2, the value of option $1 (default $3): five cron fields or an @macro, else a usage error
# (exit 2, before any change). Sets REPLY to it with single spaces between the fields.
check_schedule() {
  local option=$1 schedule=${2//$'\t'/ } i range
  if [[ $schedule =~ ^@(hourly|daily|weekly|monthly|yearly|annually|midnight)$ ]]; then
    REPLY=$schedule
    return
  fi
  local fields=()
  # A newline would end the entry and start another: no control character passes.
  if [[ $schedule != *[[:cntrl:]]* ]]; then read -r -a fields <<<"$schedule"; fi
  local ok=0
  if ((${#fields[@]} == 5)); then
    ok=1
    for i in 0 1 2 3 4; do
      range=${FIELD_RANGES[i]}
      cron_items "${fields[i]}" "${range% *}" "${range#* }" "${FIELD_NAMES[i]}" || ok=0
    done
  fi
  if ((ok == 0)); then
    local shown="\"$2\""
    [[ $2 != *[[:cntrl:]]* ]] || shown=$(printf '%q' "$2")
    usage_error "$option wants five cron fields, minute (0-59) hour (0-23) day (1-31) month (1-12, jan-dec) weekday (0-7, sun-sat), each *, a value, a-b, */n, a-b/n or a list of them (e.g. \"$3\"), or @hourly/@daily/@weekly/...; not $shown"
  fi
  REPLY="${fields[*]}"
}
check_schedule --schedule "$SCHEDULE" "$DEFAULT_SCHEDULE"
readonly SCHEDULE=$REPLY
check_schedule --full-schedule "$FULL_SCHEDULE" "$DEFAULT_FULL_SCHEDULE"
readonly FULL_SCHEDULE=$REPLY FULL

# --- whose job -------------------------------------------------------------------------------

# Parses `id` output ("uid=0(root) gid=0(root) groups=...") into ID_UID, ID_USER, ID_GID and
# ID_GROUP; an id without a name (a container's uid) stands for itself.
parse_id() {
  [[ $1 =~ ^uid=([0-9]+)(\(([^\)]*)\))?\ gid=([0-9]+)(\(([^\)]*)\))? ]] || return 1
  ID_UID=${BASH_REMATCH[1]} ID_USER=${BASH_REMATCH[3]:-${BASH_REMATCH[1]}}
  ID_GID=${BASH_REMATCH[4]} ID_GROUP=${BASH_REMATCH[6]:-${BASH_REMATCH[4]}}
}
parse_id "$(id)" || die "id printed what this script cannot read: $(id)"
readonly RUN_UID=$ID_UID RUN_USER=$ID_USER
if [[ -n $TARGET_USER ]]; then
  [[ $TARGET_USER != -* && $TARGET_USER != *[[:cntrl:][:space:]:/]* ]] ||
    usage_error "--user wants a user name, not $(printf '%q' "$TARGET_USER")"
  ids=$(id -- "$TARGET_USER" 2>/dev/null) && parse_id "$ids" ||
    die "there is no user '$TARGET_USER' on this machine: create one first, e.g. sudo useradd --system --home-dir /var/lib/gingr-sync --create-home $TARGET_USER" 2
fi
# A number given as --user becomes its name.
readonly TARGET_USER=$ID_USER TARGET_UID=$ID_UID TARGET_GID=$ID_GID TARGET_GROUP=$ID_GROUP
# FOR_OTHER: root installs the job of another user; its files are then made that user's.
if [[ $TARGET_USER == "$RUN_USER" ]]; then FOR_OTHER=0; else FOR_OTHER=1; fi
readonly FOR_OTHER
# Where cron starts the job; not looked up for root, whose home is taken as there.
TARGET_HOME=''
if ((TARGET_UID != 0)); then
  IFS=: read -r _ _ _ _ _ TARGET_HOME _ <<<"$(getent passwd -- "$TARGET_USER")" || TARGET_HOME=''
fi
readonly TARGET_HOME
if ((FOR_OTHER == 1 && RUN_UID != 0)); then
  die "only root can install the job of another user: run sudo ./$PROG --user $TARGET_USER ..." 2
fi

# --- paths -----------------------------------------------------------------------------------

if ((RUN_UID == 0)); then
  : "${BINARY:=/usr/local/bin/gingr-sync}" "${ENV_FILE:=/etc/gingr-sync/gingr-sync.env}"
  # Another user's job gets a log folder of its own: the job's shell opens the log anew each run,
  # and could not create it again in root's /var/log once it was rotated or deleted.
  if ((FOR_OTHER == 1)); then : "${LOG_FILE:=/var/log/gingr-sync/gingr-sync.log}"; else : "${LOG_FILE:=/var/log/gingr-sync.log}"; fi
  if [[ -d /var/lock ]]; then : "${LOCK_FILE:=/var/lock/gingr-sync.lock}"; else : "${LOCK_FILE:=/tmp/gingr-sync.lock}"; fi
elif [[ -z $BINARY || -z $ENV_FILE || -z $LOG_FILE || -z $LOCK_FILE ]]; then
  [[ ${HOME-} == /?* ]] || die "HOME is not set, and a user other than root installs under it: set HOME, or give --binary, --env-file, --log and --lock" 2
  # The lock lives beside the log, not in $XDG_RUNTIME_DIR: that folder exists only while the user
  # has a session, and cron runs the job when nobody is logged in.
  : "${BINARY:=$HOME/.local/bin/gingr-sync}" "${ENV_FILE:=$HOME/.config/gingr-sync/gingr-sync.env}"
  : "${LOG_FILE:=$HOME/.local/state/gingr-sync/gingr-sync.log}" "${LOCK_FILE:=$HOME/.local/state/gingr-sync/gingr-sync.lock}"
fi

for name in BINARY ENV_FILE LOG_FILE LOCK_FILE METRICS_FILE; do
  [[ -n ${!name} ]] || continue
  # A newline would split the cron entry in two; other control characters are never intended.
  [[ ${!name} != *[[:cntrl:]]* ]] || usage_error "a path holds a control character: $(printf '%q' "${!name}")"
  printf -v "$name" '%s' "$(absolute "${!name}")"
done
readonly BINARY ENV_FILE LOG_FILE LOCK_FILE METRICS_FILE SYSTEMD UNINSTALL PURGE DRY_RUN
# The full sync's flock, beside the hourly one's (see hourly_cron_entry).
readonly FULL_LOCK_FILE="${LOCK_FILE%.lock}-full.lock"

ROOT=${GINGR_SYNC_ROOT:-}
readonly LOGROTATE_DIR="$ROOT/etc/logrotate.d"
readonly LOGROTATE_RULE="$LOGROTATE_DIR/gingr-sync"
readonly UNIT_DIR="$ROOT/etc/systemd/system"
# sd_booted(3)'s test: this folder exists only while systemd is the init system.
readonly SYSTEMD_RUNTIME_DIR="$ROOT/run/systemd/system"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gingr-sync-install.XXXXXX")
readonly WORK
trap 'rm -rf -- "$WORK"' EXIT

has_marker() {
  local first
  [[ -f $1 ]] && IFS= read -r first <"$1" && [[ $first == "$MARKER" ]]
}

# Runs a command as the job's user, with that user's HOME: what it can reach is what the job will.
as_target() {
  if ((FOR_OTHER == 1)); then
    HOME=${TARGET_HOME:-/} setpriv --reuid="$TARGET_UID" --regid="$TARGET_GID" --init-groups -- "$@"
  else
    "$@"
  fi
}

# A folder of our own: named for gingr-sync (the defaults' /etc/gingr-sync, ~/.config/gingr-sync,
# /var/log/gingr-sync), so it may be made the job user's and be removed by --purge.
is_own_folder() { [[ ${1##*/} == gingr-sync ]]; }

# Makes $1 the job user's (root installing for another user only): the job must read or write it.
own_for_target() {
  ((FOR_OTHER == 1)) || return 0
  if [[ -e $1 && $(stat -c %u:%g -- "$1") == "$TARGET_UID:$TARGET_GID" ]]; then return 0; fi
  act chown -- "$TARGET_USER:$TARGET_GROUP" "$1"
  [[ $DRY_RUN == 1 ]] || say "owner: $1 is now $TARGET_USER's"
}

# --- the crontab -----------------------------------------------------------------------------

# The hard limit on one run, past gingr-sync's own --max-runtime (55 minutes by default), so a run
# that could not stop itself is ended (SIGTERM, then SIGKILL a minute later) before the next hour.
readonly HARD_LIMIT_SECONDS=3480
readonly HARD_KILL_AFTER_SECONDS=60
# flock's exit code when the lock is held: the skipped run then says so in the log.
readonly LOCK_HELD_CODE=75

# A cron entry: $1 the schedule, $2 the lock, $3 the command's words before --env-file ('' for the
# hourly sync), $4 who holds the lock when the run is skipped, $5 the marker that ends it.
cron_entry() {
  local flock_bin timeout_bin log skipped
  flock_bin=$(command -v flock)
  timeout_bin=$(command -v timeout)
  log=$(sh_quote "$LOG_FILE")
  skipped=$(sh_quote "skipped: $4 still holds $2")
  # flock -n: a run that would overlap a still-running one exits at once instead of queueing, and
  # writes one line saying so (else an hourly run that never ends would silence every later one).
  # The binary reads its secrets from the env file itself: none of them is ever on this line.
  cron_escape "$(printf '%s %s -n -E %s %s %s -k %s %s %s %s--env-file %s >> %s 2>&1; [ $? != %s ] || printf '\''%%s WARN  %%s\\n'\'' "$(date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ)" %s >> %s' \
    "$1" "$(sh_quote "$flock_bin")" "$LOCK_HELD_CODE" "$(sh_quote "$2")" \
    "$(sh_quote "$timeout_bin")" "$HARD_KILL_AFTER_SECONDS" "$HARD_LIMIT_SECONDS" \
    "$(sh_quote "$BINARY")" "${3:+$3 }" "$(sh_quote "$ENV_FILE")" "$log" "$LOCK_HELD_CODE" "$skipped" "$log")"
  printf ' %s' "$5"
}

# The hourly sync's flock is --lock; the weekly full sync's is its own, beside it. Two flocks, so
# that neither job waits for the other, nor is skipped for it: both start at 02:00 on Sundays by
# default. What keeps them from writing one tenant at once is gingr-sync's per-tenant lock in
# PostgreSQL, which hand runs take too: an hourly run skips a tenant that a full run is writing
# (seconds), with a WARN line, and syncs it an hour later (its window overlaps the last one); a full
# run waits up to 2 minutes for an hourly run's write, else fails that tenant with an ERROR line and
# exit 1. The full job has the hourly one's hard limit, so it never holds a tenant past an hour.
hourly_cron_entry() {
  cron_entry "$SCHEDULE" "$LOCK_FILE" "${METRICS_FILE:+--metrics-file $(sh_quote "$METRICS_FILE")}" 'the previous run' "$MARKER"
}
full_cron_entry() { cron_entry "$FULL_SCHEDULE" "$FULL_LOCK_FILE" full 'the previous full sync' "$FULL_MARKER"; }

# crontab(1) on $1's table: one's own without -u (some crons refuse -u to a user other than root,
# even naming themself), another's with -u, which only root may use.
crontab_of() {
  local who=$1
  shift
  if [[ $who == "$RUN_USER" ]]; then crontab "$@"; else crontab -u "$who" "$@"; fi
}

# How the output names $1's table: plain "crontab" when the job is the caller's own.
crontab_label() { if ((FOR_OTHER == 1)); then printf 'crontab of %s' "$1"; else printf 'crontab'; fi; }

# Reads $1's crontab into $WORK/crontab.old (empty when the user has none).
read_crontab() {
  local rc=0
  LC_ALL=C crontab_of "$1" -l >"$WORK/crontab.old" 2>"$WORK/crontab.err" || rc=$?
  if ((rc != 0)); then
    grep -qi 'no crontab' "$WORK/crontab.err" ||
      die "crontab -l failed for $1: $(tr '\n' ' ' <"$WORK/crontab.err")"
    : >"$WORK/crontab.old"
  fi
}

# Sets the entry that ends with marker $2 in $WORK/crontab.new to $1: replaced in place, appended
# when absent, dropped when $1 is empty. Every other line is copied byte for byte. $3 names the
# entry in what is said; each change (or what is found unchanged) is added to CRON_NOTES.
edit_crontab() {
  local entry=$1 name=$3
  cp -- "$WORK/crontab.new" "$WORK/crontab.before"
  # ENVIRON, not awk -v: -v would interpret the backslashes of a \% escape.
  ENTRY=$entry MARK=$2 LC_ALL=C awk '
    function managed(line) { return substr(line, length(line) - length(ENVIRON["MARK"]) + 1) == ENVIRON["MARK"] }
    managed($0) { if (!done && ENVIRON["ENTRY"] != "") print ENVIRON["ENTRY"]; done = 1; next }
    { print }
    END { if (!done && ENVIRON["ENTRY"] != "") print ENVIRON["ENTRY"] }
  ' "$WORK/crontab.before" >"$WORK/crontab.new"
  if ! cmp -s "$WORK/crontab.before" "$WORK/crontab.new"; then
    if [[ -n $entry ]]; then CRON_NOTES+=("changed|install $name: $entry"); else CRON_NOTES+=("changed|remove $name"); fi
  elif [[ -n $entry ]]; then
    CRON_NOTES+=("same|$name is already installed: $entry")
  fi
}

# Reads $1's table and starts the edits of edit_crontab on it.
start_crontab_edit() {
  read_crontab "$1"
  cp -- "$WORK/crontab.old" "$WORK/crontab.new"
  CRON_NOTES=()
}

# Applies $WORK/crontab.new to $1's table, in one write whatever the entries edited, and says what
# changed, entry by entry; $2 is said when there was no entry to install or remove.
apply_crontab() {
  local who=$1 label note
  label=$(crontab_label "$who")
  if cmp -s "$WORK/crontab.old" "$WORK/crontab.new" || [[ $DRY_RUN == 1 ]]; then
    :
  elif [[ -s $WORK/crontab.new ]]; then
    crontab_of "$who" "$WORK/crontab.new" || die "crontab refused the new table of $who"
  else
    # The entries were the whole table: remove the table, as there was none before the install.
    crontab_of "$who" -r || die "crontab -r failed for $who"
  fi
  ((${#CRON_NOTES[@]} > 0)) || say "$label: $2"
  for note in "${CRON_NOTES[@]}"; do
    if [[ $note == changed\|* && $DRY_RUN == 1 ]]; then say "would: $label: ${note#*|}"; else say "$label: ${note#*|}"; fi
  done
}

# The hourly entry, and the full sync's (or none, with --no-full: one installed before goes).
install_cron_entries() {
  local full=''
  ((FULL == 0)) || full=$(full_cron_entry)
  start_crontab_edit "$TARGET_USER"
  edit_crontab "$(hourly_cron_entry)" "$MARKER" 'the entry'
  edit_crontab "$full" "$FULL_MARKER" "the full sync's entry"
  apply_crontab "$TARGET_USER" 'no gingr-sync entry'
}

# Both entries; $1: whose table; $2: what to say when there is none.
remove_cron_entries() {
  start_crontab_edit "$1"
  edit_crontab '' "$MARKER" 'the gingr-sync entry'
  edit_crontab '' "$FULL_MARKER" "the gingr-sync full sync's entry"
  apply_crontab "$1" "${2:-no gingr-sync entry}"
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
  parent_dir "$target"
  mkdir -p -- "$REPLY"
  tmp=$(mktemp "$REPLY/.${target##*/}.XXXXXX")
  if ! { cat >"$tmp" && chmod "$mode" "$tmp" && mv -f -- "$tmp" "$target"; }; then
    rm -f -- "$tmp"
    die "could not write $target"
  fi
  say "wrote $target"
}

# The binary to install, printed: one beside this script (a release folder, as ./build.sh all
# makes dist/), the build for this machine first, else dist/gingr-sync of a checkout; nothing when
# there is none.
find_source_binary() {
  local names=() name builds=("$SCRIPT_DIR"/gingr-sync-linux-*)
  # uname and cpuinfo only when a release's builds are here.
  [[ -e ${builds[0]} ]] && case $(uname -m) in
    x86_64 | amd64)
      # Bun's x64 build needs AVX2 (it dies with "illegal instruction" without); the baseline
      # build runs on any x86-64.
      if grep -qw avx2 /proc/cpuinfo 2>/dev/null; then names+=(gingr-sync-linux-x64); fi
      names+=(gingr-sync-linux-x64-baseline)
      ;;
    aarch64 | arm64) names+=(gingr-sync-linux-arm64) ;;
  esac
  for name in "${names[@]}" gingr-sync; do
    if [[ -f $SCRIPT_DIR/$name ]]; then
      printf '%s' "$SCRIPT_DIR/$name"
      return
    fi
  done
  if [[ -f $SCRIPT_DIR/dist/gingr-sync ]]; then printf '%s' "$SCRIPT_DIR/dist/gingr-sync"; fi
}
SOURCE_BINARY=$(find_source_binary)
readonly SOURCE_BINARY
SOURCE_NOTE=''

# Checks $SOURCE_BINARY against the sha256sums.txt beside it. A gingr-sync-linux-* build is one of
# a release's (./build.sh all lists every one), so a list that lacks it means a mixed-up folder;
# the plain gingr-sync (./build.sh's own, never listed) is checked only when listed.
verify_source_binary() {
  local sums name expected actual
  sums=${SOURCE_BINARY%/*}/sha256sums.txt
  name=${SOURCE_BINARY##*/}
  [[ -f $sums ]] || return 0
  expected=$(awk -v name="$name" '$2 == name || $2 == "*" name { print $1; exit }' "$sums")
  if [[ -z $expected ]]; then
    [[ $name != gingr-sync-linux-* ]] || die "$SOURCE_BINARY is not listed in $sums: this folder mixes releases; copy the release folder again" 2
    return 0
  fi
  command -v sha256sum >/dev/null || die "sha256sum not found (it checks the binary against $sums): install coreutils, which provides it" 2
  actual=$(sha256sum <"$SOURCE_BINARY") && actual=${actual%% *}
  [[ $actual == "$expected" ]] ||
    die "$SOURCE_BINARY does not match its checksum in $sums (a damaged or partial copy): copy the release folder again" 2
  SOURCE_NOTE=" (matches $sums)"
}

install_binary() {
  if [[ -z $SOURCE_BINARY ]]; then
    say "binary: none beside $PROG, using $BINARY as it is"
  elif [[ -f $BINARY ]] && cmp -s "$SOURCE_BINARY" "$BINARY" && [[ $(stat -c %a "$BINARY") == 755 ]]; then
    say "binary: $BINARY is already $SOURCE_BINARY$SOURCE_NOTE"
  else
    say "binary: installing $SOURCE_BINARY$SOURCE_NOTE"
    write_atomically "$BINARY" 755 <"$SOURCE_BINARY"
  fi
}

# Every setting the binary reads, each with one line saying what it is for
# (test/install-cron.test.ts derives the list from src/ and fails when one is missing here).
env_template() {
  cat <<EOF
# gingr-sync settings, read by: gingr-sync --env-file $ENV_FILE
# Keep this file mode 600, owned by the job's user: it holds the Gingr API key and the database password.
# Lines are KEY=VALUE (# comments, blank lines, export and quotes are fine). Uncomment and fill in
# the lines below, then check them with:
#   $BINARY doctor --env-file $ENV_FILE

# Required: the Tailtown PostgreSQL database (Prisma's ?schema=... and a socket ?host=/run/postgresql are understood).
#DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/DATABASE

# Required unless GINGR_BASE_URL or the config file gives it: the NAME of https://NAME.gingrapp.com.
#GINGR_SUBDOMAIN=NAME
# Required unless the config file gives every tenant one: the Gingr user's API key (never printed).
#GINGR_API_KEY=KEY

# Optional: another Gingr API root instead of https://NAME.gingrapp.com/api/v1 (a proxy, the simulator).
#GINGR_BASE_URL=
# Optional: a URL pinged when each run starts, succeeds (URL) or fails (URL/fail), as --ping-url.
#GINGR_SYNC_PING_URL=
# Optional: a JSON file giving tenants Gingr accounts and windows of their own, as --config.
#GINGR_SYNC_CONFIG=
# Optional: seconds one SQL statement may run, lock waits included, before its tenant fails (1-86400, default 300).
#GINGR_SYNC_STATEMENT_TIMEOUT=300
# Optional: seconds the whole run may take before it stops, rolling back the tenant in flight (1-86400, default 3300), as --max-runtime.
#GINGR_SYNC_MAX_RUNTIME=3300
# Optional: the largest Gingr answer read, in MB after decompression (1-4096, default 128).
#GINGR_SYNC_MAX_RESPONSE_MB=128
# Optional: tenants synced at once, each on its own database connection (1-64, default 4), as --concurrency.
#GINGR_SYNC_CONCURRENCY=4
EOF
}

ensure_env_file() {
  local dir mode
  parent_dir "$ENV_FILE"
  dir=$REPLY
  if [[ -e $ENV_FILE ]]; then
    mode=$(stat -c %a -- "$ENV_FILE")
    if (((8#$mode & 8#077) != 0)); then
      warn "$ENV_FILE is mode $mode: other users can read the secrets in it; run: chmod 600 $(printf '%q' "$ENV_FILE")"
    fi
    say "env file: $ENV_FILE exists, left as it is"
    # One in a folder of ours is an earlier install's (root's, as the README once said): it becomes
    # the user's. Any other is left to its owner: check_target_can_reach saw that the user reads it.
    if is_own_folder "$dir"; then
      own_for_target "$dir"
      own_for_target "$ENV_FILE"
    fi
    return
  fi
  if [[ ! -d $dir ]]; then
    parent_dir "$dir"
    act mkdir -p -- "$REPLY"
    act mkdir -m 700 -- "$dir"
    own_for_target "$dir"
  elif is_own_folder "$dir"; then
    own_for_target "$dir"
  fi
  if [[ $DRY_RUN == 1 ]]; then
    say "would: create $ENV_FILE (mode 600) from a commented template"
    own_for_target "$ENV_FILE"
    return
  fi
  # umask first, so the file is never readable by others, not even for an instant; noclobber (-C)
  # so that a file appearing meanwhile is not overwritten.
  (umask 077 && set -C && env_template >"$ENV_FILE") || die "could not create $ENV_FILE"
  chmod 600 -- "$ENV_FILE"
  own_for_target "$ENV_FILE"
  say "env file: created $ENV_FILE (mode 600, $TARGET_USER's) from a template: fill it in"
}

# The folder of $1, made when missing; the job user's when it is ours (see is_own_folder).
ensure_folder_of() {
  local dir
  parent_dir "$1"
  dir=$REPLY
  if [[ ! -d $dir ]]; then
    act mkdir -p -- "$dir"
    own_for_target "$dir"
  elif is_own_folder "$dir"; then
    own_for_target "$dir"
  fi
}

ensure_log_file() {
  ensure_folder_of "$LOG_FILE"
  [[ -e $LOG_FILE ]] || act touch -- "$LOG_FILE"
  own_for_target "$LOG_FILE"
  ensure_folder_of "$LOCK_FILE"
  # The jobs' flock opens the lock with O_CREAT: one left by root (an earlier install as root) must
  # become the user's, and made now it opens even in a folder the user may not write.
  if ((SYSTEMD == 0 && FOR_OTHER == 1)); then
    local lock locks=("$LOCK_FILE")
    ((FULL == 0)) || locks+=("$FULL_LOCK_FILE")
    for lock in "${locks[@]}"; do
      [[ -e $lock ]] || act touch -- "$lock"
      own_for_target "$lock"
    done
  fi
}

logrotate_rule() {
  # No copytruncate: every run opens the log anew, so a plain rename loses nothing, whereas
  # copytruncate drops whatever is written between its copy and its truncate. delaycompress: a run
  # still writing to the renamed file is not compressed under its feet.
  say "$MARKER"
  say "\"$LOG_FILE\" {"
  if ((FOR_OTHER == 1)); then
    # In a folder the job's user may write, rotate as that user (logrotate's own advice: a root
    # logrotate there could be led through a link the user planted); the new log is the user's.
    local dir_owner
    parent_dir "$LOG_FILE"
    dir_owner=$(stat -c %u -- "$REPLY" 2>/dev/null) || dir_owner=$TARGET_UID
    if [[ $dir_owner == "$TARGET_UID" ]]; then say "    su $TARGET_USER $TARGET_GROUP"; fi
    say "    create 0640 $TARGET_USER $TARGET_GROUP"
  fi
  cat <<EOF
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
  elif [[ ! -w $LOGROTATE_DIR ]]; then
    say "logrotate: skipped, only root may add a rule to $LOGROTATE_DIR; rotate the log yourself: each run opens it anew, so renaming it (mv $(printf '%q %q' "$LOG_FILE" "$LOG_FILE.1")) loses nothing"
  elif [[ -e $LOGROTATE_RULE ]] && ! has_marker "$LOGROTATE_RULE"; then
    warn "$LOGROTATE_RULE was not written by $PROG: left as it is"
  else
    logrotate_rule | write_atomically "$LOGROTATE_RULE" 644
  fi
}

# Removes a file, saying so (one line per file).
remove_file() {
  if [[ $DRY_RUN == 1 ]]; then
    say "would: remove $1"
  else
    rm -f -- "$1" || die "could not remove $1"
    say "removed $1"
  fi
}

# Removes a file this script wrote (it starts with the marker); anything else stays.
remove_managed() {
  if [[ ! -e $1 ]]; then
    return
  elif ! has_marker "$1"; then
    warn "$1 was not written by $PROG: left as it is"
  elif parent_dir "$1" && [[ ! -w $REPLY ]]; then
    warn "$1 belongs to an install made by root: left as it is (sudo ./$PROG --uninstall removes it)"
  else
    remove_file "$1"
  fi
}

# --- systemd ---------------------------------------------------------------------------------

# Prints the OnCalendar= of a schedule (checked by check_schedule): cron's own meaning, in local
# time as cron's. Fails when systemd cannot say it: cron runs a job whose day of the month and day of
# the week are both restricted on either day, systemd only on days that are both.
on_calendar() {
  case $1 in
    "$DEFAULT_SCHEDULE" | @hourly) printf 'hourly' ;;
    @daily | @midnight) printf 'daily' ;;
    # systemd's "weekly" is Monday's midnight, cron's Sunday's.
    @weekly) printf 'Sun *-*-* 00:00:00' ;;
    @monthly) printf 'monthly' ;;
    @yearly | @annually) printf 'yearly' ;;
    *)
      local fields minute hour day month weekdays
      read -r -a fields <<<"$1"
      [[ ${fields[2]} == '*'* || ${fields[4]} == '*'* ]] || return 1
      calendar_field "${fields[0]}" 0 59 && minute=$REPLY
      calendar_field "${fields[1]}" 0 23 && hour=$REPLY
      calendar_field "${fields[2]}" 1 31 && day=$REPLY
      calendar_field "${fields[3]}" 1 12 "$MONTH_NAMES" && month=$REPLY
      calendar_weekdays "${fields[4]}" && weekdays=$REPLY
      printf '%s*-%s-%s %s:%s:00' "${weekdays:+$weekdays }" "$month" "$day" "$hour" "$minute"
      ;;
  esac
}

# Sets REPLY to a cron field's OnCalendar form, values in two digits as systemd writes them: a..b
# for a-b, and /n the same; a star with a step starts at the field's first value ("*/15" is
# "00/15"), as cron's does.
calendar_field() {
  local item from to step out=''
  cron_items "$@" || return 1
  for item in "${ITEMS[@]}"; do
    read -r from to step <<<"$item"
    out+=${out:+,}
    if [[ $from == '*' ]]; then
      if ((step == 1)); then out+='*'; else out+=$(printf '%02d/%d' "$2" "$step"); fi
    elif ((from == to && step == 1)); then
      out+=$(printf '%02d' "$from")
    else
      out+=$(printf '%02d..%02d' "$from" "$to")
      ((step == 1)) || out+=/$step
    fi
  done
  REPLY=$out
}

# Sets REPLY to the days a cron weekday field names, as OnCalendar's list (Sun,Wed); empty for
# every day. systemd takes no step there, so each day is listed.
calendar_weekdays() {
  local item from to step day out='' names=(Sun Mon Tue Wed Thu Fri Sat)
  local picked=(0 0 0 0 0 0 0)
  REPLY=''
  [[ $1 != '*' ]] || return 0
  cron_items "$1" 0 7 "$DAY_NAMES" || return 1
  for item in "${ITEMS[@]}"; do
    read -r from to step <<<"$item"
    if [[ $from == '*' ]]; then from=0 to=6; fi
    for ((day = from; day <= to; day += step)); do picked[day % 7]=1; done
  done
  for day in 0 1 2 3 4 5 6; do
    if ((picked[day] == 1)); then out+=${out:+,}${names[day]}; fi
  done
  REPLY=$out
}

# The service of unit $1 (gingr-sync or gingr-sync-full): $2 describes it, $3 are the command's
# words before --env-file.
service_unit() {
  # No flock here: systemd never starts a oneshot service again while it is still running. The two
  # services may run at once, as the two cron entries may (see full_lock_file).
  cat <<EOF
$MARKER
[Unit]
Description=$2
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
EOF
  if [[ $TARGET_USER != root ]]; then printf 'User=%s\nGroup=%s\n' "$TARGET_USER" "$TARGET_GROUP"; fi
  cat <<EOF
# The hard limit on one run (the cron entry's timeout): past it systemd stops the service.
TimeoutStartSec=${HARD_LIMIT_SECONDS}s
ExecStart=$(systemd_quote "$BINARY" executable) ${3:+$3 }--env-file $(systemd_quote "$ENV_FILE")
StandardOutput=append:${LOG_FILE//%/%%}
StandardError=inherit
EOF
}

# The timer of unit $1, on calendar $2.
timer_unit() {
  cat <<EOF
$MARKER
[Unit]
Description=Run $1 on a schedule

[Timer]
OnCalendar=$2
# A run missed while the machine was off happens at the next boot.
Persistent=true

[Install]
WantedBy=timers.target
EOF
}

systemd_running() { [[ -d $SYSTEMD_RUNTIME_DIR ]]; }
# systemctl only where systemd runs: elsewhere every call fails ("System has not been booted with
# systemd").
have_systemctl() { command -v systemctl >/dev/null && systemd_running; }

readonly HOURLY_UNIT=gingr-sync FULL_UNIT=gingr-sync-full

# Writes unit $1's service and timer ($2 the description, $3 the calendar, $4 the command's words).
write_units() {
  service_unit "$1" "$2" "$4" | write_atomically "$UNIT_DIR/$1.service" 644
  timer_unit "$1" "$3" | write_atomically "$UNIT_DIR/$1.timer" 644
}

install_units() {
  local timers=("$HOURLY_UNIT.timer")
  write_units "$HOURLY_UNIT" 'Copy the recent window of Gingr reservations into the Tailtown database' "$(on_calendar "$SCHEDULE")" \
    "${METRICS_FILE:+--metrics-file $(systemd_quote "$METRICS_FILE")}"
  if ((FULL == 1)); then
    write_units "$FULL_UNIT" 'Copy every Gingr owner and animal into the Tailtown database' "$(on_calendar "$FULL_SCHEDULE")" full
    timers+=("$FULL_UNIT.timer")
  else
    remove_units "$FULL_UNIT" # one installed before
  fi
  act systemctl daemon-reload || die "systemctl daemon-reload failed"
  act systemctl enable --now "${timers[@]}" || die "systemctl enable --now ${timers[*]} failed"
}

# Removes the service and timer of each unit named ($HOURLY_UNIT, $FULL_UNIT) that this script
# wrote, its timer stopped and disabled first.
remove_units() {
  local name manage=0 removed=0
  if [[ -w $UNIT_DIR ]] && have_systemctl; then manage=1; fi
  for name in "$@"; do
    if has_marker "$UNIT_DIR/$name.service" || has_marker "$UNIT_DIR/$name.timer"; then
      if ((manage == 1)); then
        act systemctl disable --now "$name.timer" || warn "systemctl disable --now $name.timer failed"
      fi
      removed=1
    fi
    # Only warns, when a unit of that name was written by hand.
    remove_managed "$UNIT_DIR/$name.timer"
    remove_managed "$UNIT_DIR/$name.service"
  done
  if ((manage == 1 && removed == 1)); then
    act systemctl daemon-reload || warn "systemctl daemon-reload failed"
  fi
}

# --- the two jobs ----------------------------------------------------------------------------

# Every check that can refuse comes before the first change, so exit 2 means nothing was changed.
check_prerequisites() {
  # The job was installed for another user (its env file is theirs): as root's, an upgrade would
  # add root's own job beside theirs, and --uninstall would leave theirs behind.
  if ((TARGET_UID == 0)) && [[ -e $ENV_FILE && $(stat -c %u -- "$ENV_FILE") != 0 ]]; then
    local owner
    owner=$(stat -c %U -- "$ENV_FILE")
    [[ $owner != UNKNOWN ]] || owner=$(stat -c %u -- "$ENV_FILE")
    die "$ENV_FILE is $owner's, so the job is $owner's: add --user $owner (to give the job to root instead, first uninstall it with --user $owner and chown the env file to root)" 2
  fi
  if ((FOR_OTHER == 1)); then
    command -v setpriv >/dev/null ||
      die "setpriv not found (it checks, as $TARGET_USER, what the job will reach): install util-linux, which provides it" 2
  fi
  ((UNINSTALL == 0)) || return 0
  [[ -n $SOURCE_BINARY || -x $BINARY ]] ||
    die "no binary: none beside $PROG (a release folder's gingr-sync-linux-*, or gingr-sync), no dist/gingr-sync (run ./build.sh first), and no executable $BINARY" 2
  [[ -n $SOURCE_BINARY || ! -d $BINARY ]] || die "$BINARY is a directory" 2
  [[ -z $SOURCE_BINARY ]] || verify_source_binary
  if ((SYSTEMD == 1)); then
    ((RUN_UID == 0)) ||
      die "--systemd writes system units, which takes root: run sudo ./$PROG --systemd --user $RUN_USER, or leave out --systemd to use your own crontab" 2
    systemd_running ||
      die "systemd is not running on this machine (there is no $SYSTEMD_RUNTIME_DIR), so its timer would never fire: leave out --systemd to use cron" 2
    command -v systemctl >/dev/null || die "systemctl not found, though systemd is running: install systemd's tools (apt-get install systemd), or use cron" 2
    on_calendar "$SCHEDULE" >/dev/null || no_calendar --schedule "$SCHEDULE"
    ((FULL == 0)) || on_calendar "$FULL_SCHEDULE" >/dev/null || no_calendar --full-schedule "$FULL_SCHEDULE"
    # No escaping helps here: systemd refuses to run an executable whose path holds these.
    [[ $BINARY != *[\'\"\\]* ]] || die "systemd cannot run an executable whose path holds a quote or a backslash: choose another --binary" 2
  else
    command -v crontab >/dev/null ||
      die "crontab not found: install cron (e.g. apt-get install cron), or use --systemd" 2
    command -v flock >/dev/null ||
      die "flock not found (it keeps two runs from overlapping): install util-linux, which provides it" 2
    command -v timeout >/dev/null ||
      die "timeout not found (it bounds each run): install coreutils, which provides it" 2
  fi
  # The lock's folder too: each run creates the lock file there.
  local dirs=("${LOG_FILE%/*}" "${LOCK_FILE%/*}")
  [[ -z $SOURCE_BINARY ]] || dirs+=("${BINARY%/*}")
  [[ -e $ENV_FILE ]] || dirs+=("${ENV_FILE%/*}")
  ((SYSTEMD == 0)) || dirs+=("$UNIT_DIR")
  check_writable "${dirs[@]}"
  check_target_can_reach
}

# Refuses a schedule (option $1, value $2) that systemd cannot say (see on_calendar).
no_calendar() {
  die "$1 \"$2\" restricts both the day of the month and the day of the week: cron runs it on either, a systemd timer only on both; give one of them as * (or leave out --systemd)" 2
}

# Sets REPLY to the nearest folder that exists on the way up to $1 (absolute): where its missing
# parts would be made.
existing_parent() {
  REPLY=${1:-/}
  while [[ ! -e $REPLY ]]; do parent_dir "$REPLY"; done
}

# Refuses, before any change, folders this user cannot write (the usual cause: not run as root).
check_writable() {
  local dir at
  for dir in "$@"; do
    existing_parent "$dir"
    at=$REPLY
    [[ -w $at ]] || die "cannot write in $at: choose paths you may write (without root, the defaults are under your home), or run as root: sudo ./$PROG --user NAME ..." 2
  done
}

# Refuses, before any change, a job that could not run: its user must reach the binary, the env
# file, the log and the lock, and (for cron) have a home folder, where cron starts every job.
check_target_can_reach() {
  local entry name flag path dir at
  for entry in BINARY:--binary ENV_FILE:--env-file LOG_FILE:--log LOCK_FILE:--lock; do
    name=${entry%%:*} flag=${entry#*:}
    path=${!name}
    if [[ $flag == --lock ]] && ((SYSTEMD == 1)); then continue; fi
    parent_dir "$path"
    # A folder of our own is made the user's, so only the way to it matters.
    if is_own_folder "$REPLY"; then parent_dir "$REPLY"; fi
    existing_parent "$REPLY"
    at=$REPLY
    as_target test -x "$at" ||
      die "$TARGET_USER may not enter $at, so the job could not reach $path: choose a $flag outside it" 2
  done
  parent_dir "$ENV_FILE"
  if [[ -e $ENV_FILE ]] && ! is_own_folder "$REPLY" && ! as_target test -r "$ENV_FILE"; then
    # Not ours to chown: it may be another program's too (Tailtown's own env file, say).
    die "$TARGET_USER may not read $ENV_FILE: make it $TARGET_USER's (chown $TARGET_USER: $(printf '%q' "$ENV_FILE")), or give another --env-file" 2
  fi
  if [[ -n $METRICS_FILE ]]; then
    # gingr-sync refuses these before each run (src/metrics-file.ts): the job would sync nothing.
    [[ ! -d $METRICS_FILE ]] ||
      die "--metrics-file $METRICS_FILE is a folder: give the path of the file in it, e.g. $METRICS_FILE/gingr-sync.prom" 2
    [[ $METRICS_FILE == *.prom ]] ||
      die "--metrics-file $METRICS_FILE does not end in .prom, and node_exporter's textfile collector reads only those: choose a name that does" 2
    [[ ! -L $METRICS_FILE && (! -e $METRICS_FILE || -f $METRICS_FILE) ]] ||
      die "--metrics-file $METRICS_FILE exists and is not a regular file, which gingr-sync will not replace: choose another path" 2
    # The textfile collector's folder is node_exporter's: made and owned by its install, not here.
    parent_dir "$METRICS_FILE"
    [[ -d $REPLY ]] || die "the folder of --metrics-file, $REPLY, does not exist: create it (node_exporter's textfile collector reads it) or choose another" 2
    as_target test -w "$REPLY" -a -x "$REPLY" ||
      die "$TARGET_USER may not write in $REPLY, so the job could not write --metrics-file there: make the folder writable by $TARGET_USER, or choose another" 2
  fi
  if [[ -z $SOURCE_BINARY ]]; then
    as_target test -x "$BINARY" || die "$TARGET_USER may not run $BINARY: chmod 755 $(printf '%q' "$BINARY"), or choose another --binary" 2
  fi
  if ((SYSTEMD == 0 && TARGET_UID != 0)); then
    # cronie refuses to start a job whose user has no home folder ("ERROR chdir failed").
    local home=${TARGET_HOME:-/var/lib/gingr-sync} first=''
    [[ -n $TARGET_HOME ]] || first="sudo usermod --home $home $TARGET_USER && "
    if [[ -z $TARGET_HOME || ! -d $TARGET_HOME ]] || ! as_target test -x "$TARGET_HOME"; then
      die "$TARGET_USER's home folder ${TARGET_HOME:-(none)} is missing or closed to it, and cron starts each of its jobs there: create it (${first}sudo mkdir -p $home && sudo chown $TARGET_USER: $home), or use --systemd" 2
    fi
  fi
}

# doctor, as the job's user and from /, as cron will run it: a file the user cannot read shows here.
run_doctor() {
  local rc=0 shown_env shown_bin as=''
  shown_env=$(printf '%q' "$ENV_FILE") shown_bin=$(printf '%q' "$BINARY")
  if ((FOR_OTHER == 1)); then as=" as $TARGET_USER"; fi
  if [[ $DRY_RUN == 1 ]]; then
    say "would:$as $shown_bin doctor --env-file $shown_env"
    return
  fi
  say "checking the installation$as: $shown_bin doctor --env-file $shown_env"
  (cd / && as_target "$BINARY" doctor --env-file "$ENV_FILE" </dev/null) || rc=$?
  if ((rc == 0)); then
    say "doctor: all checks passed"
  else
    warn "doctor found a problem (exit $rc). The job is installed and will keep failing until it is fixed: edit $shown_env, then run: ${as:+sudo -u $TARGET_USER }$shown_bin doctor --env-file $shown_env"
  fi
}

print_next_steps() {
  local shown_env shown_bin as=''
  shown_env=$(printf '%q' "$ENV_FILE") shown_bin=$(printf '%q' "$BINARY")
  if ((FOR_OTHER == 1)); then as="sudo -u $TARGET_USER "; fi
  say ""
  say "Next:"
  if ((SYSTEMD == 1)); then
    local timers="$HOURLY_UNIT.timer"
    ((FULL == 0)) || timers+=" $FULL_UNIT.timer"
    say "  see the jobs:         systemctl list-timers $timers"
  elif ((FOR_OTHER == 1)); then
    say "  see the jobs:         sudo crontab -u $TARGET_USER -l"
  else
    say "  see the jobs:         crontab -l"
  fi
  say "  follow the log:       tail -f $(printf '%q' "$LOG_FILE")"
  say "  check the last sync:  $as$shown_bin status --env-file $shown_env"
  say "  a full sync now:      $as$shown_bin full --env-file $shown_env"
}

do_install() {
  if ((RUN_UID == 0 && TARGET_UID == 0)); then
    warn "the job will run as root. A job that talks to the network is better run by a user of its own: sudo useradd --system --home-dir /var/lib/gingr-sync --create-home gingr-sync, then sudo ./$PROG --user gingr-sync"
  fi
  install_binary
  ensure_env_file
  ensure_log_file
  if ((SYSTEMD == 1)); then
    install_units
    # Switching from cron: the old entries would run the jobs a second time.
    if command -v crontab >/dev/null; then remove_cron_entries "$TARGET_USER"; fi
  else
    install_cron_entries
    # Switching from systemd: the old timers would run the jobs a second time.
    remove_units "$HOURLY_UNIT" "$FULL_UNIT"
  fi
  # An earlier install as root (the README's former way): its entries would run the jobs a second time.
  if ((FOR_OTHER == 1 && RUN_UID == 0)) && command -v crontab >/dev/null; then
    remove_cron_entries "$RUN_USER"
  fi
  install_logrotate_rule
  run_doctor
  print_next_steps
}

do_uninstall() {
  if command -v crontab >/dev/null; then
    local hint=''
    ((FOR_OTHER == 1)) || hint="no gingr-sync entry (one installed for another user goes with --user NAME)"
    remove_cron_entries "$TARGET_USER" "$hint"
  else
    say "crontab not found: no cron entry to remove"
  fi
  remove_units "$HOURLY_UNIT" "$FULL_UNIT"
  remove_managed "$LOGROTATE_RULE"
  if ((PURGE == 1)); then
    local file dir seen=''
    for file in "$ENV_FILE" "$BINARY" "$LOCK_FILE" "$FULL_LOCK_FILE" "$LOG_FILE" "$LOG_FILE".[0-9]*; do
      if [[ -e $file ]]; then remove_file "$file"; fi
    done
    # Only a folder named for gingr-sync is ours to remove, and only once it is empty.
    for dir in "${ENV_FILE%/*}" "${LOG_FILE%/*}" "${LOCK_FILE%/*}"; do
      if [[ ! -d $dir || $seen == *"|$dir|"* ]] || ! is_own_folder "$dir"; then continue; fi
      seen+="|$dir|"
      if [[ $DRY_RUN == 1 ]]; then
        say "would: remove the folder $dir when it is empty"
      elif rmdir -- "$dir" 2>/dev/null; then
        say "removed the folder $dir"
      fi
    done
  fi
}

check_prerequisites
if ((UNINSTALL == 1)); then do_uninstall; else do_install; fi
if ((DRY_RUN == 1)); then say "dry run: nothing was changed"; fi
