# n2n fish shell completion

function __fish_n2n_no_subcommand --description 'Test if there has been any subcommand yet'
    for i in (commandline -opc)
        if contains -- $i init id commit chain log show verify export version completion help
            return 1
        end
    end
    return 0
end

complete -c n2n -n '__fish_n2n_no_subcommand' -f -l home -r -d 'agent home `DIR` (default $XDG_DATA_HOME/n2n)'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l json -d 'print one JSON object per line'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l timeout -r -d '`D`uration to wait for a reply once connected (and for a busy home)'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l dial-timeout -r -d '`D`uration to wait for an address that does not answer'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l bootstrap -r -d 'DHT bootstrap peer `ADDR` (multiaddr with /p2p/; repeatable)'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l no-daemon -d 'do not use a running \'n2n serve\'; open the home directly'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l passphrase-file -r -d 'read the home\'s passphrase from `FILE` (N2N_PASSPHRASE holds the passphrase itself)'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l color -r -d 'colour: auto, always or never (NO_COLOR is honoured)'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l help -s h -d 'show help'
complete -c n2n -n '__fish_n2n_no_subcommand' -f -l help -s h -d 'show help'
complete -c n2n -n '__fish_seen_subcommand_from init' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'init' -d 'create this home\'s identity and the genesis of its source chain'
complete -c n2n -n '__fish_seen_subcommand_from init' -f -l no-passphrase -d 'store the identity unencrypted (unattended homes)'
complete -c n2n -n '__fish_seen_subcommand_from id' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'id' -d 'print this agent\'s ID'
complete -c n2n -n '__fish_seen_subcommand_from commit' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'commit' -d 'append an app entry to this agent\'s source chain'
complete -c n2n -n '__fish_seen_subcommand_from commit' -f -l type -r -d 'entry type `NAME` ([a-z][a-z0-9_]*)'
complete -c n2n -n '__fish_seen_subcommand_from chain' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'chain' -d 'read and check this agent\'s source chain'
complete -c n2n -n '__fish_seen_subcommand_from log' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_seen_subcommand_from chain' -a 'log' -d 'list the actions, oldest first'
complete -c n2n -n '__fish_seen_subcommand_from show' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_seen_subcommand_from chain' -a 'show' -d 'show one action and its entry'
complete -c n2n -n '__fish_seen_subcommand_from verify' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_seen_subcommand_from chain' -a 'verify' -d 're-derive every hash and signature and check every link'
complete -c n2n -n '__fish_seen_subcommand_from export' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_seen_subcommand_from chain' -a 'export' -d 'print every action as one JSON object per line'
complete -c n2n -n '__fish_seen_subcommand_from version' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'version' -d 'print the version of n2n'
complete -c n2n -n '__fish_seen_subcommand_from completion' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'completion' -d 'print a shell completion script'
complete -c n2n -n '__fish_seen_subcommand_from help' -f -l help -s h -d 'show help'
complete -r -c n2n -n '__fish_n2n_no_subcommand' -a 'help' -d 'show help for a command, or the exit statuses with \'help exit-codes\''
