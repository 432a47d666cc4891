#!/usr/bin/env bash
# The repository stands alone and its documented commands work as written:
# - no file names a path outside the repository (a clone has no ../shared);
# - every relative link in the Markdown documents points at a file that exists;
# - documented Python commands name Debian's /usr/bin/python3 (a bare python3 on
#   PATH may be an interpreter without h5py);
# - user documents carry no issue numbers.
#   tests/docs_test.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
bad() { echo "docs_test: $*" >&2; fail=1; }

files=$(git ls-files | grep -vE '\.(h5|png|jsonl)$' | grep -v '^tests/docs_test.sh$')
if out=$(grep -nE '\.\./shared|shared/docs|shared/paper|/work/' $files); then
    bad "references outside the repository:"; echo "$out" >&2
fi

docs=$(git ls-files '*.md')
for md in $docs; do
    dir=$(dirname "$md")
    # [text](target) with a relative target (no scheme, no pure anchor)
    { grep -oE '\]\([^)#[:space:]]+' "$md" || true; } | sed 's/^](//' | { grep -vE '^[a-z]+:' || true; } | while read -r target; do
        [[ -e $dir/$target ]] || echo "$md: link to $target: no such file"
    done
done >/tmp/docs_test_links.$$ 
if [[ -s /tmp/docs_test_links.$$ ]]; then bad "broken links:"; cat /tmp/docs_test_links.$$ >&2; fi
rm -f /tmp/docs_test_links.$$

# The licence, the citation and the changelog are there, and say the version the
# program prints (CMake's project version).
version=$(sed -nE 's/^project\(xyzmf VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)
for f in LICENSE CITATION.cff CHANGELOG.md; do [[ -s $f ]] || bad "$f is missing"; done
/usr/bin/python3 - "$version" <<'PY' || bad "CITATION.cff: not valid, or not version $version"
import sys, yaml
c = yaml.safe_load(open("CITATION.cff"))
assert c["cff-version"] == "1.2.0" and c["version"] == sys.argv[1] and c["license"] == "BSD-3-Clause", c
assert any(r.get("doi") == "10.1103/PhysRevLett.110.257204" for r in c["references"])  # the paper
PY
grep -q "^## $version" CHANGELOG.md || bad "CHANGELOG.md has no section for $version"
grep -q "BSD 3-Clause" LICENSE || bad "LICENSE is not the BSD 3-Clause licence CITATION.cff names"

if out=$(grep -nE '(^|[$`(]|[[:space:]])python3 ' $docs | grep -v '/usr/bin/python3 '); then
    bad "documented commands with a bare python3:"; echo "$out" >&2
fi
user_docs=$(git ls-files README.md 'docs/*.md' 'results/*.md' 'results/**/*.md')
if out=$(grep -nE '[Ii]ssue #?[0-9]+|(^|[[:space:]])#[0-9]+\b' $user_docs); then
    bad "issue numbers in user documents:"; echo "$out" >&2
fi
[[ $fail == 0 ]] && echo "docs_test: $(echo $files | wc -w) files without outside references, links and commands of $(echo $docs | wc -w) documents checked"
exit $fail
