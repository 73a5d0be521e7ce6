package dev.reliablestore.api;

import dev.reliablestore.spi.AbstractEntityStore;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

/** A store that records every call that reaches the provider's do-methods, i.e. every "I/O". */
class RecordingStore extends AbstractEntityStore<String> {

    final List<String> io = new ArrayList<>();
    final AtomicBoolean ownerClosed;
    int closes;

    RecordingStore(String typeName, AtomicBoolean ownerClosed) {
        this(typeName, ownerClosed, Runnable::run);
    }

    RecordingStore(String typeName, AtomicBoolean ownerClosed, java.util.concurrent.Executor async) {
        super(typeName, async);
        this.ownerClosed = ownerClosed;
    }

    @Override
    protected synchronized Optional<Versioned<String>> doGet(String id) {
        io.add("get " + id);
        return Optional.empty();
    }

    @Override
    protected synchronized long doSave(String id, String entity, long expectedVersion) {
        io.add("save " + id);
        return 1;
    }

    @Override
    protected synchronized boolean doDelete(String id, long expectedVersion) {
        io.add("delete " + id);
        return false;
    }

    @Override
    protected synchronized List<Versioned<String>> doGetAll(Predicate<? super String> filter) {
        io.add("getAll");
        return List.of();
    }

    @Override
    protected synchronized long doClear() {
        io.add("clear");
        return 0;
    }

    @Override
    protected synchronized Map<String, Long> doSaveBatch(Map<String, String> entities) {
        io.add("saveBatch " + entities.keySet());
        Map<String, Long> v = new LinkedHashMap<>();
        entities.keySet().forEach(k -> v.put(k, 1L));
        return v;
    }

    @Override
    protected boolean isOwnerClosed() {
        return ownerClosed.get();
    }

    @Override
    protected void doClose() {
        closes++;
    }
}
