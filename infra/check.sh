#!/usr/bin/env bash
# Static checks of infra/: terraform fmt, init + validate of every root and module, the
# modules' offline `terraform test` files, and checkov. Run from anywhere: bash infra/check.sh. Exits non-zero on the first failure.
#
# No network is needed: the AWS provider comes from a local plugin folder (found with
# find, or TF_PLUGIN_DIR). Where there is neither a plugin folder nor a reachable
# registry, init/validate is skipped with a message. checkov runs when it is on PATH
# (or CHECKOV names it) and is skipped with a message otherwise.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
cd "$repo"

# A CLI config pointing at a missing file only prints warnings; silence them.
if [[ -n "${TF_CLI_CONFIG_FILE:-}" && ! -e "${TF_CLI_CONFIG_FILE}" ]]; then
  export TF_CLI_CONFIG_FILE=/dev/null
fi

if ! command -v terraform >/dev/null 2>&1; then
  echo "infra/check.sh: SKIP terraform checks: terraform is not installed"
  tf=0
else
  tf=1
fi

if [[ $tf == 1 ]]; then
  echo "== terraform fmt -check -recursive infra"
  terraform fmt -check -recursive -diff infra

  plugin_dir="${TF_PLUGIN_DIR:-}"
  if [[ -z "$plugin_dir" ]]; then
    provider="$(find / -xdev -name 'terraform-provider-aws_v*' -type f 2>/dev/null | head -n 1 || true)"
    if [[ -n "$provider" && "$provider" == */registry.terraform.io/* ]]; then
      plugin_dir="${provider%%/registry.terraform.io/*}"
    fi
  fi

  # Working data (.terraform) goes to a scratch folder, not the tree.
  data_root="$(mktemp -d)"
  trap 'rm -rf "$data_root"' EXIT

  validate() {
    local dir="$1" name
    name="$(echo "$dir" | tr '/' '_')"
    export TF_DATA_DIR="$data_root/$name"
    if [[ -n "$plugin_dir" ]]; then
      terraform -chdir="$dir" init -backend=false -input=false -no-color -plugin-dir="$plugin_dir" >"$data_root/$name.init.log" 2>&1 || {
        cat "$data_root/$name.init.log"
        return 1
      }
    elif ! terraform -chdir="$dir" init -backend=false -input=false -no-color >"$data_root/$name.init.log" 2>&1; then
      echo "infra/check.sh: SKIP validate of $dir: no AWS provider plugin folder and no registry"
      return 2
    fi
    echo "== terraform validate $dir"
    # (set -e does not apply inside a function called with ||: check explicitly.)
    terraform -chdir="$dir" validate -no-color || return 1
    # Offline plan-only tests (*.tftest.hcl): the policies a module writes.
    if [[ -d "$dir/tests" ]]; then
      echo "== terraform test $dir"
      terraform -chdir="$dir" test -no-color || return 1
    fi
  }

  if [[ -n "$plugin_dir" ]]; then
    echo "== AWS provider from $plugin_dir"
  fi
  for dir in infra/examples/complete infra/modules/responder infra/modules/member-role infra/modules/surface-policy infra/modules/tag-guard; do
    rc=0
    validate "$dir" || rc=$?
    if [[ $rc == 2 ]]; then
      break
    elif [[ $rc != 0 ]]; then
      exit "$rc"
    fi
  done
  # init writes a lock file next to each root; they are not tracked (.gitignore).
fi

checkov_bin="${CHECKOV:-$(command -v checkov || true)}"
if [[ -z "$checkov_bin" ]]; then
  echo "infra/check.sh: SKIP checkov: not installed (pip install checkov)"
else
  echo "== checkov -d infra"
  "$checkov_bin" -d infra --skip-download --quiet --compact
fi

echo "infra/check.sh: OK"
