#!/usr/bin/env bash
# Banned functions (STYLE.md §10) and layering (§1) in project C sources.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
files=$(git ls-files 'src/*.c' 'src/*.h' 'connectors/*.c' 'connectors/*.h' 'include/*.h')
banned='\b(gets|strcpy|strcat|sprintf|vsprintf|strncpy|strtok|atoi|atol|atof|rand|srand|system|popen|alloca|tmpnam|mktemp|gmtime|localtime|ctime|asctime)\s*\('
if hits=$(grep -nE "$banned" $files | grep -v 'NOLINT'); then
    echo "banned functions:"; echo "$hits"; rc=1
fi
# only src/store speaks SQL
if hits=$(grep -lE 'sqlite3_|<sqlite3\.h>|libpq-fe' $(echo "$files" | grep -v '^src/store/')); then
    echo "SQL outside src/store:"; echo "$hits"; rc=1
fi
# connectors include only include/warbler, src/util and their own headers
for f in $(echo "$files" | grep '^connectors/'); do
    dir=$(dirname "$f")
    while read -r inc; do
        [ -z "$inc" ] && continue
        if [ ! -e "$dir/$inc" ] && [ ! -e "src/util/$inc" ]; then
            echo "layering: $f includes \"$inc\""; rc=1
        fi
    done < <(grep -oE '^#\s*include\s+"[^"]+"' "$f" | sed -E 's/.*"([^"]+)"/\1/')
done
# the core never names a platform
if hits=$(grep -nEi '\b(telegram|whatsapp|messenger|instagram|slack|wechat|twilio)\b' \
        src/core/*.c src/http/*.c 2>/dev/null); then
    echo "platform named in the core:"; echo "$hits"; rc=1
fi
[ $rc = 0 ] && echo "check_banned: ok"
exit $rc
