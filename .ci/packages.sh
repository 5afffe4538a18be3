#!/usr/bin/env bash
# CI (issue #13, part 5): packs the packages, checks their metadata, installs the sgossip tool from the local folder
# into a temporary tool path, and runs `sgossip --version` and a two-node smoke test with the installed tool.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
packages="$work/packages"
for project in src/SecureGossip src/SecureGossip.Storage.Sqlite src/SecureGossip.WebSockets src/SecureGossip.Hosting src/SecureGossip.Cli; do
  dotnet pack "$project" -c Release -warnaserror -nologo -v quiet -o "$packages"
done

fail() { echo "packages: $*" >&2; exit 1; }
for id in SecureGossip SecureGossip.Storage.Sqlite SecureGossip.WebSockets SecureGossip.Hosting sgossip; do
  nupkg="$packages/$id.0.1.0.nupkg"
  [ -f "$nupkg" ] || fail "$id: no package"
  [ -f "$packages/$id.0.1.0.snupkg" ] || fail "$id: no symbol package"
  nuspec=$(unzip -p "$nupkg" "$id.nuspec")
  for element in description license readme tags repository authors; do
    grep -q "<$element" <<<"$nuspec" || fail "$id: the nuspec has no <$element>"
  done
  grep -q 'repository [^>]*commit="[0-9a-f]\{40\}"' <<<"$nuspec" || fail "$id: the repository element names no commit (Source Link)"
  # Here-strings, not `echo | grep -q`: grep -q stops at the first match, and a writer still writing then dies of
  # SIGPIPE, which pipefail reports as a failure (CI once said a nuspec had no <tags> that it had).
  files=$(unzip -l "$nupkg")
  grep -q ' README.md$' <<<"$files" || fail "$id: README.md is not in the package"
  if [ "$id" != sgossip ]; then
    grep -q "lib/net10.0/$id.xml" <<<"$files" || fail "$id: no XML documentation in the package"
  fi
  echo "$id: package, symbols, metadata, readme ok"
done

tools="$work/tools"
dotnet tool install sgossip --tool-path "$tools" --add-source "$packages" --version 0.1.0 >/dev/null
version=$("$tools/sgossip" --version)
echo "installed sgossip --version: $version"
case "$version" in 0.1.0*) ;; *) fail "sgossip --version printed '$version'" ;; esac

# Two nodes from the installed tool: a listens, b dials it and publishes a line, a prints it.
mkfifo "$work/a.in" "$work/b.in"
"$tools/sgossip" node --listen 127.0.0.1:0 < "$work/a.in" > "$work/a.out" 2> "$work/a.err" &
exec 3> "$work/a.in"
port=""
for _ in $(seq 1 300); do
  port=$(grep -Eo 'Listening on 127\.0\.0\.1:[0-9]+' "$work/a.err" | grep -Eo '[0-9]+$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "the first node did not say where it listens: $(cat "$work/a.err")"
"$tools/sgossip" node --connect "127.0.0.1:$port" < "$work/b.in" > "$work/b.out" 2> "$work/b.err" &
exec 4> "$work/b.in"
echo '{"smoke":"installed tool"}' >&4
for _ in $(seq 1 300); do
  grep -q '"smoke":"installed tool"' "$work/a.out" && break
  sleep 0.1
done
grep -q '"smoke":"installed tool"' "$work/a.out" || fail "the message did not reach the first node: $(cat "$work/a.err" "$work/b.err")"
echo "two-node smoke test with the installed tool: ok ($(head -c 120 "$work/a.out"))"
exec 3>&- 4>&-
