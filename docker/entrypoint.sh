#!/usr/bin/env bash
# Entry point of the swavlab images: turns secrets mounted as files into the variables swavlab reads, then
# replaces itself with the command (exec), so that SIGTERM reaches the service directly.
#
#   NAME_FILE=/run/secrets/x  →  NAME=<the file's content, trailing newlines dropped>, for the NAMEs below.
#   DATABASE_PASSWORD         →  put into DATABASE_URL (postgresql://USER@HOST/DB), percent-encoded, so that
#                                the database container and swavlab share one password secret.
set -euo pipefail

# Only these: a generic *_FILE rule would also rewrite variables such as AWS_WEB_IDENTITY_TOKEN_FILE,
# which the AWS SDK itself reads as a path.
SECRET_VARIABLES=(DATABASE_URL DATABASE_PASSWORD REDIS_URL SWAVLAB_API_TOKENS SWAVLAB_TOKEN
  AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY)

fail() {
  echo "swavlab entrypoint: $*" >&2
  exit 64
}

percent_encode() {
  local LC_ALL=C
  local text=$1 encoded='' char i
  for ((i = 0; i < ${#text}; i++)); do
    char=${text:i:1}
    case $char in
      [A-Za-z0-9._~-]) encoded+=$char ;;
      *) printf -v char '%%%02X' "'$char" && encoded+=$char ;;
    esac
  done
  printf '%s' "$encoded"
}

for name in "${SECRET_VARIABLES[@]}"; do
  file_variable="${name}_FILE"
  [[ -n ${!file_variable+set} ]] || continue
  path=${!file_variable}
  [[ -z ${!name+set} ]] || fail "$name and $file_variable are both set; set only one"
  [[ -f $path && -r $path ]] || fail "$file_variable: cannot read the file $path"
  value=$(<"$path")
  [[ -n $value ]] || fail "$file_variable: the file $path is empty"
  export "$name=$value"
  unset "$file_variable"
done

if [[ -n ${DATABASE_PASSWORD+set} ]]; then
  [[ -n ${DATABASE_URL:-} ]] || fail 'DATABASE_PASSWORD is set but DATABASE_URL is not'
  pattern='^(postgres(ql)?://)([^:@/]+)@(.+)$'
  [[ $DATABASE_URL =~ $pattern ]] ||
    fail 'DATABASE_URL: expected postgresql://USER@HOST:PORT/DATABASE (no password in it) when DATABASE_PASSWORD is set'
  DATABASE_URL="${BASH_REMATCH[1]}${BASH_REMATCH[3]}:$(percent_encode "$DATABASE_PASSWORD")@${BASH_REMATCH[4]}"
  export DATABASE_URL
  unset DATABASE_PASSWORD
fi

[[ $# -gt 0 ]] || fail 'no command given'
exec "$@"
