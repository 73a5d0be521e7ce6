package dev.reliablestore.cluster;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * Builds envelopes the way an adversary would: any header and payload, with a correct checksum
 * (anyone can compute a CRC32C) or sealed with the right key (a key holder, or a bug on the write
 * path). These reach the decoder's checks that run <em>after</em> authentication: lengths, frames,
 * dictionary ids.
 */
final class EnvelopeForger {

    private EnvelopeForger() {
    }

    /** The header: magic, format, flags, version, then the optional fields the flags announce. */
    static byte[] header(int flags, long version, int plainLength, int dictionaryId, String keyId, byte[] nonce) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer fixed = ByteBuffer.allocate(EnvelopeCodec.FIXED_HEADER);
        fixed.put(EnvelopeCodec.MAGIC).put((byte) EnvelopeCodec.FORMAT).put((byte) flags).putLong(version);
        out.writeBytes(fixed.array());
        if ((flags & EnvelopeCodec.COMPRESSED) != 0) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(plainLength).array());
        }
        if ((flags & EnvelopeCodec.DICTIONARY) != 0) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(dictionaryId).array());
        }
        if ((flags & EnvelopeCodec.ENCRYPTED) != 0) {
            byte[] id = keyId.getBytes(StandardCharsets.UTF_8);
            out.write(id.length);
            out.writeBytes(id);
            out.writeBytes(nonce);
        }
        return out.toByteArray();
    }

    /** An unencrypted envelope: header, payload and a valid CRC32C over place + both. */
    static byte[] checksummed(String root, String type, String id, byte[] header, byte[] payload) {
        byte[] e = Arrays.copyOf(header, header.length + payload.length + 4);
        System.arraycopy(payload, 0, e, header.length, payload.length);
        return withValidChecksum(root, type, id, e);
    }

    /** The same bytes with the trailing CRC32C recomputed. */
    static byte[] withValidChecksum(String root, String type, String id, byte[] e) {
        CRC32C crc = new CRC32C();
        crc.update(place(root, type, id));
        crc.update(e, 0, e.length - 4);
        ByteBuffer.wrap(e, e.length - 4, 4).putInt((int) crc.getValue());
        return e;
    }

    /** An encrypted envelope: header (ending with key id and nonce), then the payload sealed with {@code key}. */
    static byte[] sealed(String root, String type, String id, byte[] header, byte[] payload, SecretKey key) {
        try {
            byte[] nonce = Arrays.copyOfRange(header, header.length - EnvelopeCodec.NONCE_BYTES, header.length);
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(EnvelopeCodec.TAG_BITS, nonce));
            c.updateAAD(place(root, type, id));
            c.updateAAD(header);
            byte[] body = c.doFinal(payload);
            byte[] e = Arrays.copyOf(header, header.length + body.length);
            System.arraycopy(body, 0, e, header.length, body.length);
            return e;
        } catch (java.security.GeneralSecurityException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** The payload of a valid envelope (decrypted when it is encrypted). */
    static byte[] payload(String root, String type, String id, byte[] e, SecretKey key) {
        EnvelopeCodec.Header h = EnvelopeCodec.header(e, "forger");
        if (!h.encrypted()) {
            return Arrays.copyOfRange(e, h.bodyOffset(), e.length - 4);
        }
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(EnvelopeCodec.TAG_BITS, e, h.bodyOffset() - EnvelopeCodec.NONCE_BYTES,
                    EnvelopeCodec.NONCE_BYTES));
            c.updateAAD(place(root, type, id));
            c.updateAAD(e, 0, h.bodyOffset());
            return c.doFinal(e, h.bodyOffset(), e.length - h.bodyOffset());
        } catch (java.security.GeneralSecurityException ex) {
            throw new IllegalStateException(ex);
        }
    }

    /** Independent of EnvelopeCodec's own: "RSv1", then root, type, id, each with a 4-byte length. */
    static byte[] place(String root, String type, String id) {
        byte[] r = root.getBytes(StandardCharsets.UTF_8);
        byte[] t = type.getBytes(StandardCharsets.UTF_8);
        byte[] i = id.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(16 + r.length + t.length + i.length).put("RSv1".getBytes(StandardCharsets.US_ASCII))
                .putInt(r.length).put(r).putInt(t.length).put(t).putInt(i.length).put(i).array();
    }
}
