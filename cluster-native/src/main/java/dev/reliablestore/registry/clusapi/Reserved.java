package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.RegistryPath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The names the backend keeps for itself inside its base key. Every one contains {@code /}, which
 * the contract forbids in user key segments and value names ({@link RegistryPath#checkName}) and
 * which the Windows registry allows, so a reserved name can never collide with a user's (a user
 * name's mapped form, {@link NativeNames}, has no {@code /} either, in any case).
 */
final class Reserved {

    /** REG_QWORD at the base key: the commit sequence of the newest batch (absent = 0). */
    static final String SEQUENCE = "/seq";
    /** REG_BINARY at the base key: the journal of the newest batch (the change-feed record). */
    static final String JOURNAL = "/batch";
    /** Prefix of the REG_QWORD sibling holding a value's revision: {@code /rev/<name>}. */
    static final String REVISION_PREFIX = "/rev/";
    /** A key path that never exists: {@code CONDITION_KEY_EXISTS} on it is a condition that always fails. */
    static final String NEVER_EXISTS = "/never";
    /** REG_BINARY at the base key: the latest administrator's move made through any registry on this key. */
    static final String ADMIN_MOVE = "/admin-move";
    /**
     * Subkey of the base key holding the change history for replaying watches ({@link FeedHistory});
     * a reserved name, so {@code subkeys} of the root never lists it and the watch ignores its values.
     */
    static final String HISTORY = "/history";
    /** REG_QWORD at the base key: {@code replayableAfter()}, the newest sequence whose history record was dropped. */
    static final String FEED_AFTER = "/feed-after";
    /** REG_QWORD at the base key: the bytes of the history records kept (headers included). */
    static final String FEED_BYTES = "/feed-bytes";
    /** REG_QWORD at the base key: the commit time (ms) of the oldest history record kept; absent when none is. */
    static final String FEED_OLDEST = "/feed-oldest";
    /**
     * Subkey of the base key holding {@code /<s>} = REG_BINARY random id of changing batch s, for the
     * newest {@link ClusapiRegistry#BATCH_IDS_KEPT} sequences: how a batch that clusapi.dll reissued
     * after a reconnect tells its own first execution from another writer's batch.
     */
    static final String BATCH_IDS = "/ids";
    /** A value that never exists at the base key: deleting it is a batch that wakes batch notification ports and changes nothing. */
    static final String WAKE = "/wake";
    /** Separator between the registry's namespace and a health fault's id. */
    static final String FAULT_SEPARATOR = "/";

    private Reserved() {
    }

    static boolean isReserved(String name) {
        return name != null && name.indexOf('/') >= 0;
    }

    /** The revision sibling of a value, from the value's native (mapped, {@link NativeNames#value}) name. */
    static String revisionOf(String nativeValueName) {
        return REVISION_PREFIX + nativeValueName;
    }

    static byte[] qword(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static long qword(byte[] b) {
        if (b.length != 8) {
            throw new IllegalArgumentException("a REG_QWORD has 8 bytes, got " + b.length);
        }
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }
}
