package dev.reliablestore.spring.data;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.springframework.dao.DuplicateKeyException;
import org.springframework.dao.InvalidDataAccessApiUsageException;
import org.springframework.dao.OptimisticLockingFailureException;
import org.springframework.data.keyvalue.core.AbstractKeyValueAdapter;
import org.springframework.data.keyvalue.core.ForwardingCloseableIterator;
import org.springframework.data.keyvalue.core.IterableConverter;
import org.springframework.data.keyvalue.core.KeyValueTemplate;
import org.springframework.data.keyvalue.core.mapping.KeyValuePersistentEntity;
import org.springframework.data.keyvalue.core.mapping.KeyValuePersistentProperty;
import org.springframework.data.keyvalue.core.query.KeyValueQuery;
import org.springframework.data.mapping.PersistentPropertyAccessor;
import org.springframework.data.mapping.context.MappingContext;
import org.springframework.data.util.CloseableIterator;

import dev.reliablestore.api.ConcurrencyConflictException;
import dev.reliablestore.api.EntityStore;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.api.Versioned;

/**
 * Spring Data KeyValue's adapter over the stores of one {@link StoreFactory}: a keyspace is an entity
 * type (the class's simple name, as {@code StoreFactory.store(Class)} names it, unless
 * {@code @KeySpace} names another). An entity's {@code @Version} property is the store's version: a
 * save passes it as the expected version of the store's conditional save, so the comparison happens
 * in the store's own commit, never here; the value stored holds the version the save gives it (the
 * plain API reads it there), and so does the entity afterwards. A type
 * with {@code @Version} whose store {@linkplain EntityStore#mergesStaleSaves() merges stale saves} is
 * refused. An insert is the store's conditional create. A delete of a versioned entity is the store's
 * conditional delete of that version. Queries
 * (derived, paged, sorted) run in memory over {@code getAll()} of the type: every query reads the
 * whole type. A derived delete deletes each match at the version its query read.
 */
final class StoreKeyValueAdapter extends AbstractKeyValueAdapter {

    private final StoreFactory factory;
    private final MappingContext<? extends KeyValuePersistentEntity<?, ?>, ? extends KeyValuePersistentProperty<?>> mapping;
    private final Map<String, Typed> stores = new ConcurrentHashMap<>();
    /**
     * KeyValueTemplate's {@code delete(entity)} hands the adapter only the id; it runs synchronously on
     * the caller's thread, so the entity's version travels beside it here. The template's event
     * listeners run on that thread too and may delete other entities before and after it (a
     * cascade): a version is therefore used only for its own keyspace and id, at most once, and a
     * nested {@code delete(entity)} puts back the one it found.
     */
    private final ThreadLocal<VersionedDelete> versionedDelete = new ThreadLocal<>();
    /**
     * KeyValueTemplate's {@code insert} checks {@code contains} and then calls {@code put}, as its
     * update does: the entity it inserts travels beside it here, so that its {@code put} (and no
     * other, e.g. one of an event listener) is a create that fails when the id exists by then.
     */
    private final ThreadLocal<Insert> insert = new ThreadLocal<>();
    /**
     * The version of each entity a derived delete's query reads, by identity: the query engine hands
     * back the objects {@code getAllOf} made, and an entity without {@code @Version} carries none.
     */
    private final ThreadLocal<Map<Object, Long>> readVersions = new ThreadLocal<>();

    /** The version types that can hold every version a save writes back (the store's are longs, 1 or more). */
    private static final Set<Class<?>> VERSION_TYPES = Set.of(Long.class, long.class, Integer.class, int.class);

    StoreKeyValueAdapter(StoreFactory factory,
                         MappingContext<? extends KeyValuePersistentEntity<?, ?>, ? extends KeyValuePersistentProperty<?>> mapping) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.mapping = Objects.requireNonNull(mapping, "mapping");
    }

    @Override
    public Object put(Object id, Object item, String keyspace) {
        KeyValuePersistentEntity<?, ?> entity = mapping.getRequiredPersistentEntity(item.getClass());
        EntityStore<Object> store = store(keyspace, entity);
        boolean create = takeInsert(id, item);
        KeyValuePersistentProperty<?> versionProperty = versionProperty(entity);
        if (versionProperty == null) {
            if (create) {
                create(store, id(id), item);
            } else {
                store.save(id(id), item);
            }
        } else {
            if (versionProperty.isImmutable()) {
                // the template hands the caller its own instance: a copy with the new version would never reach it
                throw new InvalidDataAccessApiUsageException("the @Version property " + versionProperty.getName() + " of "
                        + entity.getType().getName() + " cannot be set (a final field without setter, e.g. a record's): the new version"
                        + " could not be written back, so the next save would conflict");
            }
            PersistentPropertyAccessor<Object> accessor = entity.getPropertyAccessor(item);
            Object version = accessor.getProperty(versionProperty);
            long expected = version == null ? Versioned.ABSENT : ((Number) version).longValue();
            // the store encodes the object as it is: the plain API reads the version from that value, so it must be the new one
            setVersion(accessor, versionProperty, expected + 1);
            long written;
            try {
                written = create && expected == Versioned.ABSENT ? create(store, id(id), item) : store.save(id(id), item, expected);
            } catch (RuntimeException failed) {
                // a refused save leaves the object as the caller had it, ready to be read again and retried
                accessor.setProperty(versionProperty, version);
                throw failed;
            }
            // the store stored this object's value (a store that could store another is refused for versioned types)
            setVersion(accessor, versionProperty, written);
            if (written == expected) {
                // a second save of the id in one transaction: its writes fold into one, whose version did not move, so
                // the value buffered holds one too many; saving it again, buffered too, costs the commit nothing
                store.save(id(id), item, written);
            }
            // A buffered save raised the version before the commit: if the transaction rolls back, the object gets its
            // version back, or saving it again would expect one another writer may have written and overwrite theirs.
            // Each save puts back what it found, and only over what it wrote, so a second save in the transaction (which
            // found the first's version) leaves the first's restore to the version before both, in either order.
            Object raised = accessor.getProperty(versionProperty);
            store.whenTransactionEnds(committed -> {
                if (!committed && Objects.equals(accessor.getProperty(versionProperty), raised)) {
                    accessor.setProperty(versionProperty, version);
                }
            });
        }
        // the replaced value is not read: that would be a second, unconditional round trip
        return null;
    }

    /**
     * A save that fails when the id holds an entity by the time the store commits it: the template's
     * {@code contains} check before it is no guard against a concurrent insert of the same id.
     */
    private static long create(EntityStore<Object> store, String id, Object item) {
        try {
            return store.save(id, item, Versioned.ABSENT);
        } catch (ConcurrencyConflictException conflict) {
            // only an entity found at a version makes the id taken; a create blocked by a prepared transaction's lock (the
            // store holds no entity) or one whose winner the store could not read is a concurrency failure, worth retrying
            if (conflict.actualVersion() > Versioned.ABSENT) {
                throw new DuplicateKeyException("cannot insert " + store.typeName() + " " + id + ": another writer created it"
                        + " meanwhile (it is at version " + conflict.actualVersion() + ")", conflict);
            }
            throw conflict;
        }
    }

    /** The entity an {@code insert} on this thread writes, and its id; {@code outer}: the insert this one runs inside. */
    private record Insert(Object item, Object id, Insert outer) {
    }

    /** Runs {@code insert} (the template's insert of {@code item}) so that its put of {@code item} is a create. */
    <T> T inserting(Object id, T item, Supplier<T> insert) {
        Insert outer = this.insert.get();
        this.insert.set(new Insert(item, id, outer));
        try {
            return insert.get();
        } finally {
            if (outer == null) {
                this.insert.remove();
            } else {
                this.insert.set(outer);
            }
        }
    }

    /** Whether this put is the one a running insert makes (used at most once). */
    private boolean takeInsert(Object id, Object item) {
        Insert pending = insert.get();
        if (pending == null || pending.item() != item || !pending.id().equals(id)) {
            return false;
        }
        if (pending.outer() == null) {
            insert.remove();
        } else {
            insert.set(pending.outer());
        }
        return true;
    }

    @Override
    public boolean contains(Object id, String keyspace) {
        return store(keyspace).exists(id(id));
    }

    @Override
    public Object get(Object id, String keyspace) {
        return store(keyspace).get(id(id)).map(this::withVersion).orElse(null);
    }

    /**
     * Deletes the version it read, so what it returns is what it deleted (or the delete fails as a
     * conflict) — unless the template's {@code delete(entity)} is running on this thread with a
     * versioned entity: then that version is the expected one, and the entity is what it returns.
     */
    @Override
    public Object delete(Object id, String keyspace) {
        EntityStore<Object> store = store(keyspace);
        VersionedDelete expected = versionedDelete.get();
        if (expected != null && expected.keyspace().equals(keyspace) && expected.id().equals(id)) {
            versionedDelete.set(expected.outer());
            // a stale or vanished entity is the store's conflict, not a silent delete of someone else's update
            store.delete(id(id), expected.version());
            return expected.entity();
        }
        return store.get(id(id)).map(found -> {
            store.delete(found.id(), found.version());
            return withVersion(found);
        }).orElse(null);
    }

    /**
     * The entity {@code delete(entity)} deletes, where, and its {@code @Version}, for the adapter call
     * it makes on this thread; {@code outer} is the one of a {@code delete(entity)} this one runs inside.
     */
    record VersionedDelete(Object entity, String keyspace, Object id, long version, VersionedDelete outer) {
    }

    /**
     * Runs {@code delete} (the template's id-based delete of {@code entity}) so that it deletes only
     * the version {@code entity} holds, when its class has a {@code @Version} property and the entity
     * was saved (a version other than null or 0); otherwise as an id-based delete.
     */
    <T> T deleteEntity(T entity, Supplier<T> delete) {
        KeyValuePersistentEntity<?, ?> type = mapping.getRequiredPersistentEntity(entity.getClass());
        KeyValuePersistentProperty<?> versionProperty = versionProperty(type);
        Object version = versionProperty == null ? null : type.getPropertyAccessor(entity).getProperty(versionProperty);
        if (version == null || ((Number) version).longValue() == 0) {
            return delete.get();
        }
        Object id = type.getIdentifierAccessor(entity).getRequiredIdentifier();
        return deleteAt(entity, type.getKeySpace(), id, ((Number) version).longValue(), delete);
    }

    /**
     * A derived delete: the entities {@code query} finds, each deleted through {@code template}'s
     * id-based delete (its events, its exception translation) at the version the query read it.
     * One conditional delete per entity, not one atomic write: the store has no conditional batch
     * delete. An entity changed or deleted since the query read it fails the call with an
     * {@code OptimisticLockingFailureException} naming it; the matches before it stay deleted and
     * the rest are left. Inside a transaction the deletes are the transaction's and commit together.
     */
    <T> List<T> deleteMatches(KeyValueTemplate template, KeyValueQuery<?> query, Class<T> type) {
        Map<Object, Long> versions = new IdentityHashMap<>();
        Map<Object, Long> outer = readVersions.get();
        readVersions.set(versions);
        List<T> matches;
        try {
            matches = IterableConverter.toList(template.find(query, type));
        } finally {
            if (outer == null) {
                readVersions.remove();
            } else {
                readVersions.set(outer);
            }
        }
        KeyValuePersistentEntity<?, ?> entity = mapping.getRequiredPersistentEntity(type);
        List<T> deleted = new ArrayList<>(matches.size());
        for (T match : matches) {
            Object id = entity.getIdentifierAccessor(match).getRequiredIdentifier();
            Long version = versions.get(match);
            if (version == null) {
                throw new IllegalStateException("the derived delete of " + type.getName() + " found " + id + " without reading its"
                        + " version, so it was not deleted; the " + deleted.size() + " matches before it were deleted, the rest were not");
            }
            try {
                deleteAt(match, entity.getKeySpace(), id, version, () -> template.delete(id, type));
            } catch (OptimisticLockingFailureException changed) {
                throw new OptimisticLockingFailureException("derived delete of " + type.getName() + ": " + id + " was updated or"
                        + " deleted since the query read it at version " + version + ", so it was not deleted; the " + deleted.size()
                        + " matches before it were deleted, the " + (matches.size() - deleted.size() - 1) + " after it were not ("
                        + changed.getMessage() + ")", changed.getCause());
            }
            deleted.add(match);
        }
        return deleted;
    }

    /** Runs {@code delete} (the template's id-based delete of {@code entity}) so that it deletes only {@code version}. */
    private <T> T deleteAt(T entity, String keyspace, Object id, long version, Supplier<T> delete) {
        VersionedDelete outer = versionedDelete.get();
        versionedDelete.set(new VersionedDelete(entity, keyspace, id, version, outer));
        try {
            return delete.get();
        } finally {
            if (outer == null) {
                versionedDelete.remove();
            } else {
                versionedDelete.set(outer);
            }
        }
    }

    @Override
    public Iterable<?> getAllOf(String keyspace) {
        // mutable: the query engine sorts the list it is given in place
        return store(keyspace).getAll().stream().map(this::withVersion).collect(Collectors.toCollection(ArrayList::new));
    }

    @Override
    public CloseableIterator<Map.Entry<Object, Object>> entries(String keyspace) {
        Iterator<Map.Entry<Object, Object>> all = store(keyspace).getAll().stream()
                .<Map.Entry<Object, Object>>map(v -> new AbstractMap.SimpleImmutableEntry<>(v.id(), withVersion(v))).iterator();
        return new ForwardingCloseableIterator<>(all);
    }

    @Override
    public void deleteAllOf(String keyspace) {
        store(keyspace).clear();
    }

    /** Clears the type of every entity class Spring Data knows (its repositories' domain types and what was saved). */
    @Override
    public void clear() {
        List<String> keyspaces = mapping.getPersistentEntities().stream().map(KeyValuePersistentEntity::getKeySpace)
                .filter(Objects::nonNull).distinct().toList();
        keyspaces.forEach(this::deleteAllOf);
    }

    @Override
    public long count(String keyspace) {
        return store(keyspace).count();
    }

    @Override
    public void destroy() {
        // the stores belong to the factory, which its owner closes
    }

    private Object withVersion(Versioned<Object> found) {
        Object value = found.value();
        Map<Object, Long> reading = readVersions.get();
        if (reading != null) {
            reading.put(value, found.version());
        }
        KeyValuePersistentEntity<?, ?> entity = mapping.getRequiredPersistentEntity(value.getClass());
        KeyValuePersistentProperty<?> versionProperty = versionProperty(entity);
        if (versionProperty != null) {
            setVersion(entity.getPropertyAccessor(value), versionProperty, found.version());
        }
        return value;
    }

    /**
     * The entity's {@code @Version} property, or null. One of a type that cannot hold the store's
     * version is refused here, before a write: found only when the new version is set, the write
     * would already have taken effect.
     */
    private static KeyValuePersistentProperty<?> versionProperty(KeyValuePersistentEntity<?, ?> entity) {
        KeyValuePersistentProperty<?> property = entity.getVersionProperty();
        if (property != null && !VERSION_TYPES.contains(property.getType())) {
            throw new InvalidDataAccessApiUsageException("the @Version property " + property.getName() + " of " + entity.getType().getName()
                    + " is a " + property.getType().getName() + ": it holds the store's version, a whole number from 1 up, so it must be"
                    + " a Long, long, Integer or int");
        }
        return property;
    }

    /**
     * {@code store}, unless its entity has a {@code @Version} property and the store merges stale
     * saves: a merged save stores a value the object does not hold, so no version written back into it
     * would be true (given the merge's, its next save passes the version check and overwrites the other
     * writer's change). Refused at the type's first use, before anything is written.
     */
    private static EntityStore<Object> refuseMergedVersions(KeyValuePersistentEntity<?, ?> entity, EntityStore<Object> store) {
        KeyValuePersistentProperty<?> property = entity.getVersionProperty();
        if (property != null && store.mergesStaleSaves()) {
            throw new InvalidDataAccessApiUsageException("the @Version property " + property.getName() + " of " + entity.getType().getName()
                    + " cannot keep the object's version true: its store (entity type " + store.typeName() + ") merges stale saves"
                    + " (conflictResolution=Merge), and a merged save stores a value the object does not hold; remove @Version"
                    + " (saves are then unconditional), or use conflictResolution Optimistic or LastWriteWins");
        }
        return store;
    }

    private static void setVersion(PersistentPropertyAccessor<Object> accessor, KeyValuePersistentProperty<?> property, long version) {
        Class<?> type = property.getActualType();
        Object value = type == Integer.class || type == int.class ? (Object) Math.toIntExact(version) : (Object) version;
        accessor.setProperty(property, value);
    }

    private EntityStore<Object> store(String keyspace) {
        Typed known = stores.get(keyspace);
        if (known != null) {
            return known.store();
        }
        KeyValuePersistentEntity<?, ?> entity = mapping.getPersistentEntities().stream()
                .filter(e -> keyspace.equals(e.getKeySpace())).findFirst()
                .orElseThrow(() -> new InvalidDataAccessApiUsageException("no entity class has keyspace " + keyspace));
        return store(keyspace, entity);
    }

    /**
     * A store is typed, so a keyspace holds one class. Classes sharing one (an inherited
     * {@code @KeySpace}) are refused: bound to whichever came first, the other's saves would fail and
     * its documents be read as the first class, dropping their own fields.
     */
    @SuppressWarnings("unchecked") // the store holds exactly the entity's class
    private EntityStore<Object> store(String keyspace, KeyValuePersistentEntity<?, ?> entity) {
        Class<?> wanted = entity.getType();
        versionProperty(entity);
        mapping.getPersistentEntities().stream()
                .filter(e -> keyspace.equals(e.getKeySpace()) && e.getType() != wanted).findFirst()
                .ifPresent(other -> {
                    throw sharedKeyspace(keyspace, wanted, other.getType());
                });
        String typeName = typeName(keyspace, wanted);
        // two keyspaces can name one entity type: classes of one simple name in two packages, or a keyspace spelling a simple name
        // only entities with an id are stored as types: a value class held in a field (no @Id) is in the mapping too
        mapping.getPersistentEntities().stream()
                .filter(e -> e.getType() != wanted && e.hasIdProperty() && typeName.equals(typeName(e.getKeySpace(), e.getType())))
                .findFirst()
                .ifPresent(other -> {
                    throw new InvalidDataAccessApiUsageException(wanted.getName() + " and " + other.getType().getName() + " would both be"
                            + " stored as entity type " + typeName + ", and read each other's entities: a ReliableStore entity type holds"
                            + " one class, so give one of them a @KeySpace of its own");
                });
        // checked before the store is kept: a kept one is handed out by store(keyspace) unchecked
        Typed typed = stores.computeIfAbsent(keyspace, k -> new Typed(wanted, refuseMergedVersions(entity,
                factory.store(typeName, (Class<Object>) wanted))));
        if (typed.type() != wanted) {
            throw sharedKeyspace(keyspace, wanted, typed.type());
        }
        return typed.store();
    }

    /** The entity type a keyspace is stored as: the class's simple name for the default keyspace (its full name), else the keyspace. */
    private static String typeName(String keyspace, Class<?> type) {
        return keyspace.equals(type.getName()) ? type.getSimpleName() : keyspace;
    }

    private static InvalidDataAccessApiUsageException sharedKeyspace(String keyspace, Class<?> one, Class<?> other) {
        return new InvalidDataAccessApiUsageException("keyspace " + keyspace + " is used by " + one.getName() + " and by "
                + other.getName() + ": a ReliableStore entity type holds one class, so give each class a keyspace of its own"
                + " (@KeySpace on the class itself, not inherited)");
    }

    /** A keyspace's store and the class it holds. */
    private record Typed(Class<?> type, EntityStore<Object> store) {
    }

    private static String id(Object id) {
        if (id instanceof String s) {
            return s;
        }
        throw new InvalidDataAccessApiUsageException("ReliableStore ids are strings; got a " + id.getClass().getName() + " (" + id + ")");
    }
}
