package dev.reliablestore.tckproof;

import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/** The data of the reference provider: outlives its factories so the TCK can "reopen" it. */
final class ReferenceStorage {

    /** One stored entity: the encoded value (or, when broken, the caller's object) and its version. */
    record Entry(String id, Object value, long version) {
    }

    static final class TypeData {
        final ReentrantLock lock = new ReentrantLock();
        final NavigableMap<String, Entry> entries = new TreeMap<>();
        final Map<String, Long> lastVersions = new TreeMap<>();
    }

    private final Map<String, TypeData> types = new ConcurrentHashMap<>();

    TypeData type(String key) {
        return types.computeIfAbsent(key, k -> new TypeData());
    }

    Iterable<TypeData> allTypes() {
        return types.values();
    }
}
