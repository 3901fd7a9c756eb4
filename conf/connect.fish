# fish completion for connect(1). Installed as share/fish/vendor_completions.d/connect.fish.
# Names (profiles, Lightning Host aliases of ~/.ssh/config, running tunnels) come from
# `connect list --names`, so they are the ones connect itself knows.

set -l cmds up status stop list check init env share help
complete -c connect -f
complete -c connect -n "not __fish_seen_subcommand_from $cmds" -a "$cmds"
complete -c connect -n "not __fish_seen_subcommand_from init share help list" -a "(connect list --names 2>/dev/null)"
complete -c connect -s F -r -F -d 'profile file'
complete -c connect -l id -r -d 'Studio id'
complete -c connect -s l -r -d 'SSH user'
complete -c connect -s p -r -d 'SSH port'
complete -c connect -s i -r -F -d 'identity file'
complete -c connect -s c -r -d 'ciphers'
complete -c connect -s L -r -d 'an extra forward'
complete -c connect -s v -d 'more log detail'
complete -c connect -s d -l background -d 'verify, then run in the background'
complete -c connect -l wait -r -d 'seconds to wait for readiness'
complete -c connect -l log -r -F -d 'log file'
complete -c connect -l syslog -d 'log to syslog'
complete -c connect -n "__fish_seen_subcommand_from status" -s j -l json -d 'JSON'
complete -c connect -n "__fish_seen_subcommand_from stop" -s a -l all -d 'every tunnel'
complete -c connect -n "__fish_seen_subcommand_from list" -l names -d 'the names alone'
complete -c connect -n "__fish_seen_subcommand_from init" -l host -r -d 'SSH host'
complete -c connect -n "__fish_seen_subcommand_from init" -s f -l force -d 'replace an existing profile'
complete -c connect -n "__fish_seen_subcommand_from help" -a "$cmds"
