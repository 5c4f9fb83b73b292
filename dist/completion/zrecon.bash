# bash completion for zrecon(8). Install as
# /usr/share/bash-completion/completions/zrecon, or source it from ~/.bashrc
# (the SmartOS global zone keeps neither /usr nor /root: source it from a
# profile under /opt, e.g. /opt/zrecon/share/bash-completion/zrecon).

_zrecon() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi
  local commands="validate plan apply status verify restore unprotect inventory schema"
  local host="--zfs --vmadm --dialect --timeout"
  local planning="-f --file --now --host $host"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    case ${words[i]} in
      validate | plan | apply | status | verify | restore | unprotect | inventory | schema)
        command=${words[i]}
        break
        ;;
    esac
  done
  if [[ -z $command ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$commands --help --version" -- "$cur")
    return
  fi
  case $prev in
    -f | --file | --out | --metrics-file | --run-log | --lock-file | --zfs | --vmadm)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return
      ;;
    --inventory | --from | --save | --imgadm-db)
      mapfile -t COMPREPLY < <(compgen -d -- "$cur")
      return
      ;;
    --dialect)
      mapfile -t COMPREPLY < <(compgen -W "auto illumos legacy" -- "$cur")
      return
      ;;
    --format)
      mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
      return
      ;;
  esac
  local options
  case $command in
    validate) options="-f --file --format" ;;
    plan) options="$planning --inventory --catalog --json --out --detailed-exitcode -v --verbose" ;;
    apply) options="$planning --dry-run --allow-destroy --json -v --verbose --metrics-file --run-log --stall-timeout --lock-file" ;;
    status) options="$planning --inventory --catalog --warn --crit --json --metrics-file" ;;
    verify) options="--from --destination -f --file --host --zone --json" ;;
    restore) options="--from --destination -f --file --zone --host --at --pool --dry-run --start --verify-first --no-space-check --imgadm-db --force $host --stall-timeout --lock-file" ;;
    unprotect) options="-f --file --dry-run $host --lock-file" ;;
    inventory) options="--save $host" ;;
    schema) options="policy plan manifest" ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$options --help" -- "$cur")
}
complete -F _zrecon zrecon
