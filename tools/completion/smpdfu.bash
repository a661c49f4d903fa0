# SPDX-License-Identifier: Apache-2.0
# bash completion for smpdfu, smpdfu-target and smpdfu-linkemu.
# Installed to share/bash-completion/completions; the commands and options
# come from the tools' own --help, so this file never lists them twice.

_smpdfu_words() # tool [group] -> the words its --help names
{
    "$1" --help 2>/dev/null | grep -oE -- '--[a-z0-9][a-z0-9-]*' | sort -u
}

_smpdfu()
{
    local cur prev words cword
    _init_completion -n : 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD
    }
    local tool=${words[0]}

    case $prev in
        --conn)
            # serial ports first: what a user plugs in.
            local ports=()
            local p
            for p in /dev/ttyACM* /dev/ttyUSB* /dev/ttyAMA* /dev/ttyS[0-9] /dev/serial/by-id/*; do
                [ -e "$p" ] && ports+=("serial:$p")
            done
            COMPREPLY=($(compgen -W "${ports[*]} serial: tcp: udp:" -- "$cur"))
            [ ${#COMPREPLY[@]} -eq 1 ] && [[ ${COMPREPLY[0]} == *: ]] && compopt -o nospace
            __ltrim_colon_completions "$cur" 2>/dev/null
            return
            ;;
        --key|--flash|--factory|--factory1|--image1)
            _filedir
            return
            ;;
        --mode)
            COMPREPLY=($(compgen -W "test-confirm confirm-only test-only upload-only move scratch overwrite" -- "$cur"))
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$(_smpdfu_words "$tool")" -- "$cur"))
        return
    fi
    if [[ $tool == *smpdfu ]]; then
        # The first two words that are not options: group, then command.
        local i nonopt=()
        for ((i = 1; i < cword; i++)); do
            case ${words[i]} in
                --conn|--timeout|--retries) ((i++)) ;;
                -*) ;;
                *) nonopt+=("${words[i]}") ;;
            esac
        done
        if [ ${#nonopt[@]} -eq 0 ]; then
            COMPREPLY=($(compgen -W "$("$tool" --help 2>/dev/null | awk '/^commands:/{c=1;next} c && /^  [a-z]/{print $1}' | sort -u)" -- "$cur"))
            return
        elif [ ${#nonopt[@]} -eq 1 ]; then
            COMPREPLY=($(compgen -W "$("$tool" --help 2>/dev/null | awk -v g="${nonopt[0]}" '/^commands:/{c=1;next} c && $1==g {print $2}')" -- "$cur"))
            return
        fi
        _filedir
        return
    fi
    if [[ $tool == *smpdfu-linkemu ]] && [ "$cword" -eq 1 ]; then
        COMPREPLY=($(compgen -W "serial udp ble limits" -- "$cur"))
        return
    fi
    _filedir
}
complete -F _smpdfu smpdfu smpdfu-target smpdfu-linkemu
