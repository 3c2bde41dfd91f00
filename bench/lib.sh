# Shared by the bench scripts (sourced). `cli` must run the warden CLI with its own
# config directory.

# Logs the CLI in with the bootstrap token, enrols TOTP for the administrator (the
# confirmation's session, verified with the second factor, is kept), creates project
# NAME, a service NAME-app in it and prints that service's personal_data gateway key.
# usage: warden_gateway_key URL BOOTSTRAP_TOKEN NAME
warden_gateway_key() {
  local url="$1" boot="$2" name="$3" secret code pid svc
  cli login --url "$url" --token "$boot" >/dev/null
  secret="$(cli totp enrol --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')"
  code="$(python3 - "$secret" <<'PY'
import base64, hashlib, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
o = mac[-1] & 15
print("%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
)"
  cli totp confirm "$code" >/dev/null
  pid="$(cli project create "$name" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  svc="$(cli service create "$name-app" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
  cli project add-member "$pid" --member "$svc" --role service >/dev/null
  cli service token "$svc" --project "$pid" --role service --data-class personal_data --output json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])'
}
