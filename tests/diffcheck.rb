#!/usr/bin/env ruby
# diffcheck.rb FILE...: Ruby's "mail" gem (2.7, Debian ruby-mail: the
# parser Zammad uses) reads each message and prints, one JSON object a
# line, what it sees:
#   file       the file name
#   headers    the top-level header fields, [name, value], in its order
#   leaves     every leaf, inside multiparts and message/rfc822:
#              {type, filename, data (base64 of the decoded content)}
#   signed     for a top-level multipart/signed: {boundary, part1 (base64
#              of the raw bytes of part 1 as this parser splits them),
#              sig (base64 of part 2 decoded), part1_leaves}; else null
#   ciphertexts  base64 of every OpenPGP message it sees: part 2 of a
#              multipart/encrypted anywhere, armored PGP MESSAGE blocks in
#              leaves, and .pgp/.gpg attachments
#   error      why the parser gave up, or null
# One process for all files: Ruby starts slowly.  tests/diffcheck.py reads
# the same things with Python's email module and judges hdpgp's verdicts.
require 'mail'
require 'json'
require 'base64'
require 'timeout'

ARMOR = /-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----/m
MAX_DEPTH = 200

def b64(s)
  Base64.strict_encode64((s || '').b)
end

def decoded(part)
  part.body.decoded.to_s.b
rescue StandardError
  part.body.raw_source.to_s.b
end

# Leaves of PART, and the ciphertexts seen in them, appended to OUT.
def walk(part, out, depth = 0)
  raise 'nesting too deep' if depth > MAX_DEPTH

  type = (part.mime_type || 'text/plain').downcase
  if part.multipart?
    if type == 'multipart/encrypted' && part.parts.size > 1
      out[:ciphertexts] << decoded(part.parts[1])
    end
    part.parts.each { |p| walk(p, out, depth + 1) }
  elsif type == 'message/rfc822'
    walk(Mail.new(decoded(part)), out, depth + 1)
  else
    data = decoded(part)
    name = (part.filename rescue nil)
    out[:leaves] << { type: type, filename: name, data: b64(data) }
    data.scan(ARMOR) { |a| out[:ciphertexts] << a }
    if name && name =~ /\.(pgp|gpg)\z/i && !data.include?('-----BEGIN PGP')
      out[:ciphertexts] << data
    end
  end
end

def leaves_of(part)
  out = { leaves: [], ciphertexts: [] }
  walk(part, out)
  out[:leaves]
end

def field_value(f)
  f.value.to_s
rescue StandardError
  f.unparsed_value.to_s
end

def read(file)
  r = { file: file, headers: [], leaves: [], signed: nil, ciphertexts: [],
        error: nil }
  Timeout.timeout(20) do
    m = Mail.new(File.binread(file))
    r[:headers] = m.header.fields.map { |f| [f.name.to_s, field_value(f)] }
    out = { leaves: [], ciphertexts: [] }
    walk(m, out)
    r[:leaves] = out[:leaves]
    r[:ciphertexts] = out[:ciphertexts].uniq.map { |c| b64(c) }
    if (m.mime_type || '').downcase == 'multipart/signed' && m.parts.size >= 1
      # raw_source of a part starts with the line end of the boundary line
      # and is in CRLF form (the gem converts every line end).
      p1 = m.parts[0].raw_source.to_s.b.sub(/\A\r?\n/, '')
      r[:signed] = { boundary: m.boundary.to_s, part1: b64(p1),
                     sig: m.parts.size > 1 ? b64(decoded(m.parts[1])) : nil,
                     parts: m.parts.size,
                     part1_leaves: leaves_of(m.parts[0]) }
    end
  end
  r
rescue Exception => e # rubocop:disable Lint/RescueException
  raise if e.is_a?(Interrupt)

  r[:error] = "#{e.class}: #{e.message}"[0, 200]
  r
end

# Every string valid UTF-8 for JSON: mail may hold any byte (what is
# compared byte for byte is base64 already).
def clean(o)
  case o
  when Hash then o.transform_values { |v| clean(v) }
  when Array then o.map { |v| clean(v) }
  when String then o.dup.force_encoding('UTF-8').scrub("\uFFFD")
  else o
  end
end

ARGV.each { |f| $stdout.puts JSON.generate(clean(read(f))) }
