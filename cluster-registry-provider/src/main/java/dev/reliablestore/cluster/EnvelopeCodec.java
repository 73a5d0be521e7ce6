package dev.reliablestore.cluster;

import dev.reliablestore.api.EntityTooLargeException;
import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdCompressCtx;
import com.github.luben.zstd.ZstdDecompressCtx;
import dev.reliablestore.api.DataIntegrityException;
import dev.reliablestore.api.PersistenceException;
import dev.reliablestore.cluster.crypto.KeyRing;
import dev.reliablestore.cluster.geo.SiteEnvelopes;
import dev.reliablestore.registry.Wtf8;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.zip.CRC32C;

/**
 * The stored form of an entity: JSON → zstd (when it pays) → AES-256-GCM (when enabled) → envelope.
 *
 * <pre>
 * offset size
 * 0      1    magic 0xC5
 * 1      1    format (1)
 * 2      1    flags: 1 = compressed, 2 = with dictionary, 4 = encrypted, 8 = stamped, 16 = exact place
 * 3      8    entity version (big-endian)
 *        4    [compressed] plaintext length
 *        4    [dictionary] dictionary id
 *        1+n  [stamped] site length, site (UTF-8): the site whose store holds the value
 *        2+n  [stamped] stamp length (big-endian), stamp: the cross-site stamp, opaque here (geo.SiteStamps)
 *        1+n  [encrypted] key id length, key id (UTF-8)
 *        12   [encrypted] nonce
 *        …    body: ciphertext + 16-byte tag when encrypted, else payload + CRC32C
 * </pre>
 *
 * The GCM additional data (or, unencrypted, the CRC32C input) is the place the value belongs to —
 * storage root, type, id — followed by the header, which holds the version: a value moved to
 * another id, a header edited, or any flipped bit fails authentication. The decoder is told the
 * entity's version from its separate version record and refuses an envelope of another version,
 * so an old value replayed in place of the current one is refused too.
 *
 * <p>The place's names are UTF-8. A name may hold an unpaired surrogate, which UTF-8 cannot encode
 * (Java writes {@code ?}), so such a place is written as WTF-8 and flagged "exact place" in the
 * header — otherwise {@code a\uD800} and {@code a\uDC00} (and {@code a?}) would share one place and
 * a value could be moved between them. Only ill-formed places carry the flag: every other envelope
 * is byte for byte what it was before the flag existed. An unflagged envelope at an ill-formed place
 * is read with the UTF-8 place, so that values sealed before the flag existed stay readable; the
 * price is that a value of the look-alike id with {@code ?} for each unpaired surrogate (whose
 * envelope is never flagged) still opens there.
 *
 * <p>A store of a multi-site deployment stamps its values: the header names the site that holds
 * the value and carries its cross-site stamp (origin site, clock, version vector), both
 * authenticated with the rest. A site's codec refuses a value bound to another site — so copying an
 * envelope from one site's registry into another's fails like moving it between ids — and the
 * shipper re-seals a value for the site it ships to. A stamped value is readable by a store that
 * does not know its site (one opened without {@code sites}), and an unstamped value (written
 * before sites were configured) by one that does.
 *
 * <p>Decoding never throws anything but {@link DataIntegrityException}; it allocates at most
 * {@link #MAX_PLAINTEXT} bytes whatever the input claims.
 */
final class EnvelopeCodec implements SiteEnvelopes {

    static final byte MAGIC = (byte) 0xC5;
    static final int FORMAT = 1;
    static final int COMPRESSED = 1;
    static final int DICTIONARY = 2;
    static final int ENCRYPTED = 4;
    static final int STAMPED = 8;
    static final int EXACT_PLACE = 16;
    /** The largest stamp carried (a vector of 16 sites with 64-character names fits with room to spare). */
    static final int MAX_STAMP_BYTES = 4096;
    static final int NONCE_BYTES = 12;
    static final int TAG_BITS = 128;
    static final int TAG_BYTES = TAG_BITS / 8;
    static final int FIXED_HEADER = 11;
    /** Compression is not tried below this many JSON bytes: the frame overhead eats the gain. */
    static final int COMPRESSION_THRESHOLD = 64;
    static final int COMPRESSION_LEVEL = 3;
    /** The largest JSON document encoded or decoded (64 MiB): a bound on what a forged length can allocate. */
    static final int MAX_PLAINTEXT = 64 << 20;

    /**
     * Frees a thread's zstd contexts once the thread is gone: zstd-jni's contexts hold native memory
     * that only {@code close()} releases (no finalizer, no cleaner), and the threads that encode —
     * callers' pools that retire idle threads, the common pool's helpers of {@link BatchEncoder} —
     * come and go.
     */
    private static final Cleaner CONTEXTS = Cleaner.create(r -> {
        Thread t = new Thread(r, "reliablestore-zstd-context-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final ThreadLocal<ZstdCompressCtx> PLAIN_COMPRESSOR = ThreadLocal.withInitial(() ->
            freedWithThread(new ZstdCompressCtx().setLevel(COMPRESSION_LEVEL).setChecksum(true).setContentSize(true)));
    private static final ThreadLocal<ZstdCompressCtx> DICT_COMPRESSOR = ThreadLocal.withInitial(() ->
            freedWithThread(new ZstdCompressCtx().setLevel(COMPRESSION_LEVEL).setChecksum(true).setContentSize(true)));
    private static final ThreadLocal<ZstdDecompressCtx> PLAIN_DECOMPRESSOR = ThreadLocal.withInitial(() -> freedWithThread(new ZstdDecompressCtx()));
    private static final ThreadLocal<ZstdDecompressCtx> DICT_DECOMPRESSOR = ThreadLocal.withInitial(() -> freedWithThread(new ZstdDecompressCtx()));
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no AES/GCM/NoPadding cipher", e);
        }
    });
    private static final ThreadLocal<SecureRandom> NONCES = ThreadLocal.withInitial(SecureRandom::new);

    /** {@code context}, closed when the thread creating it (the only one to use it) is collected. */
    private static <C extends java.io.Closeable> C freedWithThread(C context) {
        // the action holds the context, never the thread, so the thread can be collected
        CONTEXTS.register(Thread.currentThread(), () -> {
            try {
                context.close();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // zstd-jni's close declares but never throws it
            }
        });
        return context;
    }

    /** The calling thread's compression context for values without a dictionary (tests). */
    static ZstdCompressCtx plainCompressorOfThisThread() {
        return PLAIN_COMPRESSOR.get();
    }

    private final byte[] rootBytes;
    private final byte[] rootExact;
    private final boolean rootIll;
    private final boolean compress;
    private final CompressionDictionary.Lookup dictionaries;
    private final KeyRing keys;
    private final byte[] activeKeyId;
    /** The site this codec's store belongs to, or null for a single-site store. */
    private final String site;
    private final byte[] siteBytes;

    /**
     * @param root         the storage root, bound into every value
     * @param compress     whether to compress when it pays
     * @param dictionaries trained dictionaries, or null to never use one
     * @param keys         the key ring, or null for no encryption
     */
    EnvelopeCodec(String root, boolean compress, CompressionDictionary.Lookup dictionaries, KeyRing keys) {
        this(root, compress, dictionaries, keys, null);
    }

    /**
     * @param site the site of a multi-site deployment this codec's store belongs to (values it
     *             seals with a stamp are bound to it, values bound to another site are refused), or
     *             null for a single-site store
     */
    EnvelopeCodec(String root, boolean compress, CompressionDictionary.Lookup dictionaries, KeyRing keys, String site) {
        this.site = site;
        this.siteBytes = site == null ? null : site.getBytes(StandardCharsets.UTF_8);
        if (siteBytes != null && (siteBytes.length == 0 || siteBytes.length > 255)) {
            throw new IllegalArgumentException("site name '" + site + "' must be 1 to 255 UTF-8 bytes");
        }
        this.rootBytes = root.getBytes(StandardCharsets.UTF_8);
        this.rootExact = Wtf8.encode(root);
        this.rootIll = Wtf8.hasUnpairedSurrogate(root);
        this.compress = compress;
        this.dictionaries = dictionaries;
        this.keys = keys;
        this.activeKeyId = keys == null ? null : keys.activeKeyId().getBytes(StandardCharsets.UTF_8);
        if (keys != null && dictionaries instanceof DictionaryManager stored) {
            // dictionaries are trained from plaintext: an encrypting store must not keep them in clear
            stored.sealWith(new EnvelopeCodec(root, false, null, keys));
        }
    }

    /**
     * The cross-site stamp in an envelope's header, or null when it carries none or is not an
     * envelope. Read as it is: not authenticated (for a status display; {@link #open} authenticates).
     */
    static byte[] peekStamp(byte[] envelope) {
        try {
            java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(envelope);
            if (in.get() != MAGIC || in.get() != FORMAT) {
                return null;
            }
            int flags = in.get();
            if ((flags & STAMPED) == 0) {
                return null;
            }
            in.position(FIXED_HEADER + ((flags & COMPRESSED) != 0 ? 4 : 0) + ((flags & DICTIONARY) != 0 ? 4 : 0));
            int siteLength = Byte.toUnsignedInt(in.get());
            in.position(in.position() + siteLength); // the site
            byte[] stamp = new byte[Short.toUnsignedInt(in.getShort())];
            in.get(stamp);
            return stamp;
        } catch (RuntimeException malformed) {
            return null;
        }
    }

    boolean encrypts() {
        return keys != null;
    }

    KeyRing keys() {
        return keys;
    }

    /** {@link #encode} for a store whose values may be at most {@code maxValueBytes}: a larger one is refused before it is sent. */
    Encoded encodeAtMost(int maxValueBytes, String type, String id, long version, byte[] json) {
        return encodeAtMost(maxValueBytes, type, id, version, json, null, null);
    }

    /** Refuses JSON larger than any document this codec encodes, before anything is encoded. */
    static void requireEncodable(String type, String id, byte[] json) {
        if (json.length > MAX_PLAINTEXT) {
            throw EntityTooLargeException.beforeEncoding(type, id, json.length, MAX_PLAINTEXT);
        }
    }

    /** {@link #encodeAtMost}, keeping a stamped value's stamp and the site it is bound to (key rotation rewrites values as they are). */
    Encoded encodeAtMost(int maxValueBytes, String type, String id, long version, byte[] json, String boundSite, byte[] stamp) {
        requireEncodable(type, id, json);
        Encoded enc = stamp == null ? encode(type, id, version, json) : encodeBound(type, id, version, json, boundSite, stamp);
        if (enc.envelope().length > maxValueBytes) {
            throw new EntityTooLargeException(type, id, enc.envelope().length, maxValueBytes);
        }
        return enc;
    }

    /** An encoded value with the sizes before and after compression (for metrics). */
    record Encoded(byte[] envelope, int plainBytes, int compressedBytes) {
    }

    Encoded encode(String type, String id, long version, byte[] json) {
        return encode(type, id, version, json, null);
    }

    /**
     * @param stamp the cross-site stamp to carry, bound with the value to this codec's site; null
     *              for an unstamped value
     * @throws IllegalStateException a stamp given to a codec that has no site
     */
    Encoded encode(String type, String id, long version, byte[] json, byte[] stamp) {
        if (stamp != null && site == null) {
            throw new IllegalStateException("a stamped value needs the site it is bound to; this store has none");
        }
        return encodeBound(type, id, version, json, site, stamp);
    }

    /** {@link #encode} bound to {@code boundSite} (a stamped value rewritten as it is, whatever this codec's site). */
    Encoded encodeBound(String type, String id, long version, byte[] json, String boundSite, byte[] stamp) {
        return encodeBound(type, id, version, json, boundSite, stamp, true);
    }

    /** @param sampled whether {@code type} is an entity type, whose dictionaries may compress and learn from {@code json} */
    private Encoded encodeBound(String type, String id, long version, byte[] json, String boundSite, byte[] stamp, boolean sampled) {
        byte[] bound = boundSite == null ? null : boundSite.getBytes(StandardCharsets.UTF_8);
        if (stamp != null && (bound == null || bound.length == 0 || bound.length > 255)) {
            throw new IllegalArgumentException("a stamped value is bound to a site of 1 to 255 UTF-8 bytes: " + boundSite);
        }
        if (stamp != null && stamp.length > MAX_STAMP_BYTES) {
            throw new IllegalArgumentException("the stamp of " + type + "/" + id + " is " + stamp.length + " bytes; the limit is " + MAX_STAMP_BYTES);
        }
        if (json.length > MAX_PLAINTEXT) {
            throw new IllegalArgumentException("JSON of " + type + "/" + id + " is " + json.length + " bytes; the limit is " + MAX_PLAINTEXT);
        }
        int flags = 0;
        byte[] payload = json;
        int dictId = 0;
        if (compress && json.length >= COMPRESSION_THRESHOLD) {
            if (dictionaries != null && sampled) {
                dictionaries.sample(type, json);
            }
            CompressionDictionary dict = dictionaries == null || !sampled ? null : dictionaries.current(type);
            byte[] compressed;
            if (dict != null) {
                ZstdCompressCtx ctx = DICT_COMPRESSOR.get();
                ctx.loadDict(dict.compress());
                compressed = ctx.compress(json);
            } else {
                compressed = PLAIN_COMPRESSOR.get().compress(json);
            }
            if (compressed.length + 4 + (dict != null ? 4 : 0) < json.length) {
                payload = compressed;
                flags |= COMPRESSED;
                if (dict != null) {
                    flags |= DICTIONARY;
                    dictId = dict.id();
                }
            }
        }
        if (keys != null) {
            flags |= ENCRYPTED;
        }
        if (stamp != null) {
            flags |= STAMPED;
        }
        if (rootIll || Wtf8.hasUnpairedSurrogate(type) || Wtf8.hasUnpairedSurrogate(id)) {
            flags |= EXACT_PLACE;
        }
        int headerSize = FIXED_HEADER + ((flags & COMPRESSED) != 0 ? 4 : 0) + ((flags & DICTIONARY) != 0 ? 4 : 0)
                + (stamp != null ? 1 + bound.length + 2 + stamp.length : 0)
                + (keys != null ? 1 + activeKeyId.length + NONCE_BYTES : 0);
        int bodySize = payload.length + (keys != null ? TAG_BYTES : 4);
        byte[] out = new byte[headerSize + bodySize];
        ByteBuffer b = ByteBuffer.wrap(out);
        b.put(MAGIC).put((byte) FORMAT).put((byte) flags).putLong(version);
        if ((flags & COMPRESSED) != 0) {
            b.putInt(json.length);
        }
        if ((flags & DICTIONARY) != 0) {
            b.putInt(dictId);
        }
        if (stamp != null) {
            b.put((byte) bound.length).put(bound).putShort((short) stamp.length).put(stamp);
        }
        if (keys != null) {
            b.put((byte) activeKeyId.length).put(activeKeyId);
            byte[] nonce = new byte[NONCE_BYTES];
            NONCES.get().nextBytes(nonce);
            b.put(nonce);
            try {
                Cipher cipher = CIPHER.get();
                cipher.init(Cipher.ENCRYPT_MODE, keys.key(keys.activeKeyId()), new GCMParameterSpec(TAG_BITS, nonce));
                cipher.updateAAD(place(type, id, flags));
                cipher.updateAAD(out, 0, headerSize);
                int written = cipher.doFinal(payload, 0, payload.length, out, headerSize);
                if (written != bodySize) {
                    throw new IllegalStateException("GCM produced " + written + " bytes, expected " + bodySize);
                }
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES-256-GCM encryption failed: " + e.getClass().getSimpleName(), e);
            }
        } else {
            b.put(payload);
            CRC32C crc = new CRC32C();
            crc.update(place(type, id, flags));
            crc.update(out, 0, headerSize + payload.length);
            b.putInt((int) crc.getValue());
        }
        return new Encoded(out, json.length, payload.length);
    }

    /**
     * The readable header fields of an envelope.
     *
     * @param site  the site the value is bound to, null when it is not stamped
     * @param stamp its cross-site stamp, null when it is not stamped
     */
    record Header(int flags, long version, int plainLength, int dictionaryId, String site, byte[] stamp, String keyId, int bodyOffset) {
        boolean encrypted() {
            return (flags & ENCRYPTED) != 0;
        }
    }

    /**
     * Parses the header only (no decryption).
     *
     * @throws DataIntegrityException when it is not a well-formed envelope
     */
    static Header header(byte[] e, String where) {
        if (e.length < FIXED_HEADER) {
            throw new DataIntegrityException(where + ": stored value is " + e.length + " bytes, shorter than an envelope header (truncated?)");
        }
        if (e[0] != MAGIC) {
            throw new DataIntegrityException(where + ": stored value is not a ReliableStore envelope (first byte 0x"
                    + String.format("%02X", e[0] & 0xFF) + ")");
        }
        if (e[1] != FORMAT) {
            throw new DataIntegrityException(where + ": envelope format " + (e[1] & 0xFF) + " is unknown; this version reads format "
                    + FORMAT + " (was it written by a newer ReliableStore?)");
        }
        int flags = e[2] & 0xFF;
        if ((flags & ~(COMPRESSED | DICTIONARY | ENCRYPTED | STAMPED | EXACT_PLACE)) != 0 || ((flags & DICTIONARY) != 0 && (flags & COMPRESSED) == 0)) {
            throw new DataIntegrityException(where + ": envelope flags 0x" + Integer.toHexString(flags) + " are invalid");
        }
        ByteBuffer b = ByteBuffer.wrap(e);
        b.position(3);
        long version = b.getLong();
        int plainLength = -1;
        int dictId = 0;
        String keyId = null;
        int need = FIXED_HEADER + ((flags & COMPRESSED) != 0 ? 4 : 0) + ((flags & DICTIONARY) != 0 ? 4 : 0)
                + ((flags & STAMPED) != 0 ? 3 : 0) + ((flags & ENCRYPTED) != 0 ? 1 : 0);
        if (e.length < need) {
            throw new DataIntegrityException(where + ": envelope header is truncated (" + e.length + " bytes)");
        }
        if ((flags & COMPRESSED) != 0) {
            plainLength = b.getInt();
            if (plainLength < 0 || plainLength > MAX_PLAINTEXT) {
                throw new DataIntegrityException(where + ": envelope claims " + plainLength + " bytes of plaintext; the limit is " + MAX_PLAINTEXT);
            }
        }
        if ((flags & DICTIONARY) != 0) {
            dictId = b.getInt();
        }
        String boundSite = null;
        byte[] stamp = null;
        if ((flags & STAMPED) != 0) {
            int siteLen = b.get() & 0xFF;
            if (siteLen == 0 || b.remaining() < siteLen + 2) {
                throw new DataIntegrityException(where + ": stamped envelope is truncated or has a bad site length " + siteLen);
            }
            boundSite = headerName(b, siteLen, where, "stamped envelope names a site");
            int stampLen = b.getShort() & 0xFFFF;
            if (stampLen > MAX_STAMP_BYTES || b.remaining() < stampLen + ((flags & ENCRYPTED) != 0 ? 1 : 4)) {
                throw new DataIntegrityException(where + ": stamped envelope is truncated or has a bad stamp length " + stampLen);
            }
            stamp = new byte[stampLen];
            b.get(stamp);
        }
        if ((flags & ENCRYPTED) != 0) {
            int idLen = b.get() & 0xFF;
            if (idLen == 0 || idLen > KeyRing.MAX_KEY_ID_BYTES || b.remaining() < idLen + NONCE_BYTES + TAG_BYTES) {
                throw new DataIntegrityException(where + ": encrypted envelope is truncated or has a bad key id length " + idLen);
            }
            keyId = headerName(b, idLen, where, "encrypted envelope has a key id");
            b.position(b.position() + NONCE_BYTES);
        } else if (b.remaining() < 4) {
            throw new DataIntegrityException(where + ": envelope is truncated (no checksum)");
        }
        return new Header(flags, version, plainLength, dictId, boundSite, stamp, keyId, b.position());
    }

    /**
     * A name of the header (a site, a key id), UTF-8. No valid one has control characters (KeyRing and
     * the site names refuse them), and messages quote it: refused, so no forged log lines.
     */
    private static String headerName(ByteBuffer b, int length, String where, String what) {
        byte[] bytes = new byte[length];
        b.get(bytes);
        String name = new String(bytes, StandardCharsets.UTF_8);
        if (name.chars().anyMatch(Character::isISOControl)) {
            throw new DataIntegrityException(where + ": " + what + " with control characters");
        }
        return name;
    }

    /**
     * Decodes a stored envelope back to JSON.
     *
     * @param expectedVersion the entity version from its version record; the envelope must carry it
     * @throws DataIntegrityException on any problem, never anything else
     */
    byte[] decode(String type, String id, long expectedVersion, byte[] e) {
        return open(type, id, expectedVersion, e).json();
    }

    /** {@link #decode}, keeping the stamp. */
    @Override
    public Opened open(String type, String id, long expectedVersion, byte[] e) {
        String where = type + "/" + id;
        try {
            Header h = header(e, where);
            if (h.version() != expectedVersion) {
                throw new DataIntegrityException(where + ": envelope holds version " + h.version() + " but the entity's version record says "
                        + expectedVersion + " (an old or misplaced value was written back)");
            }
            if (h.site() != null && site != null && !h.site().equals(site)) {
                throw new DataIntegrityException(where + ": the value is bound to site '" + h.site() + "' and this is site '" + site
                        + "' (copied from another site's registry? shipped values are re-sealed for the site they land at)");
            }
            byte[] payload;
            if (h.encrypted()) {
                if (keys == null) {
                    throw new DataIntegrityException(where + ": value is encrypted (key id \"" + h.keyId()
                            + "\") but encryption is not enabled for this store");
                }
                SecretKey key = keys.key(h.keyId());
                if (key == null) {
                    throw new DataIntegrityException(where + ": value is encrypted with key id \"" + h.keyId()
                            + "\", which is not among the configured keys " + keys.keyIds());
                }
                int nonceOffset = h.bodyOffset() - NONCE_BYTES;
                Cipher cipher = CIPHER.get();
                cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, e, nonceOffset, NONCE_BYTES));
                cipher.updateAAD(place(type, id, h.flags()));
                cipher.updateAAD(e, 0, h.bodyOffset());
                payload = cipher.doFinal(e, h.bodyOffset(), e.length - h.bodyOffset());
            } else {
                if (keys != null) {
                    throw new DataIntegrityException(where + ": value is not encrypted but this store requires encryption "
                            + "(written before encryption was switched on? then encryptValuesInClear() seals it; a value planted in clear "
                            + "by someone who can write the registry reads the same)");
                }
                int end = e.length - 4;
                CRC32C crc = new CRC32C();
                crc.update(place(type, id, h.flags()));
                crc.update(e, 0, end);
                if ((int) crc.getValue() != ByteBuffer.wrap(e, end, 4).getInt()) {
                    throw new DataIntegrityException(where + ": checksum mismatch (value corrupted, truncated or moved from another id)");
                }
                payload = java.util.Arrays.copyOfRange(e, h.bodyOffset(), end);
            }
            if ((h.flags() & COMPRESSED) == 0) {
                return new Opened(payload, h.stamp());
            }
            long frameSize = Zstd.getFrameContentSize(payload);
            if (frameSize != h.plainLength()) {
                throw new DataIntegrityException(where + ": compressed frame holds " + frameSize + " bytes, the header says "
                        + h.plainLength());
            }
            byte[] json = new byte[h.plainLength()];
            int n;
            if ((h.flags() & DICTIONARY) != 0) {
                if (dictionaries == null) {
                    throw new DataIntegrityException(where + ": value was compressed with dictionary " + h.dictionaryId()
                            + " but this store has no dictionaries");
                }
                ZstdDecompressCtx ctx = DICT_DECOMPRESSOR.get();
                ctx.loadDict(dictionaries.byId(type, h.dictionaryId()).decompress());
                n = ctx.decompressByteArray(json, 0, json.length, payload, 0, payload.length);
            } else {
                n = PLAIN_DECOMPRESSOR.get().decompressByteArray(json, 0, json.length, payload, 0, payload.length);
            }
            if (n != json.length) {
                throw new DataIntegrityException(where + ": decompressed " + n + " bytes, expected " + json.length);
            }
            return new Opened(json, h.stamp());
        } catch (PersistenceException d) {
            // damage found above, or a dictionary that cannot be fetched now: unreachable or closed is not damage
            throw d;
        } catch (AEADBadTagException bad) {
            throw new DataIntegrityException(where + ": authentication failed: the value was tampered with, moved from another "
                    + "entity or store, or the key with its id is not the key it was written with");
        } catch (GeneralSecurityException | RuntimeException other) {
            throw new DataIntegrityException(where + ": cannot decode the stored value (" + other.getClass().getSimpleName() + ")");
        }
    }

    /**
     * Whether the ring's key under the key id of encrypted envelope {@code e}, stored at
     * {@code type/id}, opens it: its tag over the body, the header and the place verifies. Nothing
     * is decompressed or compared with a version record. False alike for a key that is not the one
     * the value was sealed with and for a damaged value; the caller tells them apart by asking more
     * than one value.
     *
     * @throws IllegalArgumentException when {@code e} is not encrypted or the ring lacks its key id
     */
    boolean opensWithRingKey(String type, String id, byte[] e, Header h) {
        SecretKey key = keys == null || !h.encrypted() ? null : keys.key(h.keyId());
        if (key == null) {
            throw new IllegalArgumentException(type + "/" + id + ": not a value this ring's keys can open (key id " + h.keyId() + ")");
        }
        try {
            Cipher cipher = CIPHER.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, e, h.bodyOffset() - NONCE_BYTES, NONCE_BYTES));
            cipher.updateAAD(place(type, id, h.flags()));
            cipher.updateAAD(e, 0, h.bodyOffset());
            cipher.doFinal(e, h.bodyOffset(), e.length - h.bodyOffset());
            return true;
        } catch (GeneralSecurityException | RuntimeException wrongKeyOrDamaged) {
            return false;
        }
    }

    @Override
    public Sealed seal(String type, String id, long version, byte[] json, byte[] stamp) {
        Encoded e = encode(type, id, version, json, stamp);
        return new Sealed(e.envelope(), e.plainBytes(), e.compressedBytes());
    }

    /** A record's version: records are written once, never overwritten by a newer one. */
    private static final long RECORD_VERSION = 1;

    @Override
    public byte[] sealRecord(String type, String kind, String name, byte[] payload, byte[] stamp) {
        if (site == null || stamp == null) {
            throw new IllegalStateException("a record is bound to its site and carries a stamp; this store has no site");
        }
        return encodeBound(recordType(type, kind), name, RECORD_VERSION, payload, site, stamp, false).envelope();
    }

    @Override
    public Opened openRecord(String type, String kind, String name, byte[] sealed) {
        Opened opened = open(recordType(type, kind), name, RECORD_VERSION, sealed);
        if (opened.stamp() == null) {
            throw new DataIntegrityException(type + "/" + kind + "/" + name + ": a record without a stamp");
        }
        return opened;
    }

    /** Entity types contain no '/', so no value shares a record's place. */
    private static String recordType(String type, String kind) {
        if (kind.isEmpty() || kind.indexOf('/') >= 0) {
            throw new IllegalArgumentException("a record kind is a non-empty name without '/': " + kind);
        }
        return type + "/" + kind;
    }

    /** root, type and id, each length-prefixed, so that no two places share a byte string. */
    private byte[] place(String type, String id, int flags) {
        boolean exact = (flags & EXACT_PLACE) != 0;
        byte[] r = exact ? rootExact : rootBytes;
        byte[] t = exact ? Wtf8.encode(type) : type.getBytes(StandardCharsets.UTF_8);
        byte[] i = exact ? Wtf8.encode(id) : id.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(4 + 12 + r.length + t.length + i.length);
        b.put((byte) 'R').put((byte) 'S').put((byte) 'v').put((byte) '1');
        b.putInt(r.length).put(r).putInt(t.length).put(t).putInt(i.length).put(i);
        return b.array();
    }}
