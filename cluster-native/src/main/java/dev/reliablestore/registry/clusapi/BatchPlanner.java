package dev.reliablestore.registry.clusapi;

import dev.reliablestore.registry.BatchCommand;
import dev.reliablestore.registry.Change;
import dev.reliablestore.registry.RegistryPath;
import dev.reliablestore.registry.RegistryValue;
import dev.reliablestore.registry.VersionedValue;
import dev.reliablestore.registry.WriteBatch;
import dev.reliablestore.registry.clusapi.jna.ClusApiTypes;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns a {@link WriteBatch} into the native commands of one cluster-registry batch, relative to the
 * registry's base key. The layout of every native batch:
 *
 * <ol>
 *   <li>the sequence check: {@code CONDITION_IS_EQUAL /seq == s} ({@code CONDITION_NOT_EXISTS /seq} when
 *       s = 0) -- so batches of all writers are serialised and the pre-state the plan was made for is
 *       the state it runs on;</li>
 *   <li>when the batch changes anything: {@code SET_VALUE /seq = s+1} and {@code SET_VALUE /batch =
 *       journal} (both at the base key, where the current-key pointer starts);</li>
 *   <li>the user's commands, each expanded to the native commands below, each tagged with its index.</li>
 * </ol>
 * When the batch changes anything, the registry appends the batch's change-history record and the
 * pruning of old ones ({@link FeedHistory#commands}), so they commit atomically with it.
 *
 * <p>Expansion (k = key, n = value name, p = the key path relative to the base key):
 * CreateKey → {@code CREATE_KEY} for each missing ancestor and k, top-down; SetValue → the same, then
 * {@code CREATE_KEY p} if the pointer is elsewhere, {@code SET_VALUE n}, {@code SET_VALUE /rev/n = s+1};
 * DeleteValue of an existing value → position, {@code DELETE_VALUE n}, {@code DELETE_VALUE /rev/n};
 * DeleteKey of an existing key → {@code DELETE_KEY p}. No-ops emit nothing.
 *
 * <p>Conditions: when the commands before it in the same batch decide a condition (e.g. ValueEquals
 * after a SetValue of that value) it is evaluated here -- true emits nothing, false emits a native
 * condition that always fails ({@code KEY_EXISTS /never}); so the result never depends on whether
 * the server lets a condition see earlier writes of its batch. Otherwise it becomes a native
 * condition on the unchanged pre-state: KeyExists/KeyAbsent → {@code CONDITION_KEY_(NOT_)EXISTS p};
 * ValueExists/Equals/RevisionEquals → {@code CONDITION_KEY_EXISTS p} (so positioning creates
 * nothing), {@code CREATE_KEY p}, then {@code CONDITION_EXISTS n} / {@code IS_EQUAL n (type, bytes)} /
 * {@code IS_EQUAL /rev/n (QWORD r)}; ValueAbsent → {@code CREATE_KEY p} + {@code CONDITION_NOT_EXISTS n}
 * when k exists, nothing when it does not.
 *
 * <p>Key paths and value names are emitted in their mapped, case-preserving form ({@link NativeNames});
 * the plan itself reasons about the user's (case-sensitive) names. Whether a key or value exists
 * before the batch is asked of the {@link Probe}, in user names; the answers are
 * valid because the sequence check makes the batch fail (and be planned again) if anything
 * committed after they were read.
 */
final class BatchPlanner {

    /** What a native command is for; decides how a failure at it is reported. */
    enum Role {
        /** The sequence check: failure = another writer committed first; plan again. */
        SEQUENCE_CHECK,
        /** Our bookkeeping writes (sequence, journal, revisions). */
        HEADER,
        /** A user mutation. */
        MUTATION,
        /** CREATE_KEY of an existing key to move the current-key pointer. */
        POSITION,
        /** A native condition standing for the user's condition. */
        CONDITION,
        /** The always-false condition standing for a user condition decided false in the plan. */
        FORCED_FALSE
    }

    /**
     * One native command.
     *
     * @param command   a {@code CLUSREG_*} command
     * @param name      the key path or value name
     * @param options   the REG type for values / conditions
     * @param data      value or comparand bytes (null when none)
     * @param userIndex the user's command it stands for, -1 for the header
     * @param role      what it is for
     */
    record NativeCommand(int command, String name, int options, byte[] data, int userIndex, Role role) {
    }

    /**
     * The plan of one attempt.
     *
     * @param commands the native commands in order
     * @param changes  the batch's effects, as the change feed reports them
     * @param sequence the sequence the batch gets: s+1 when it changes something, else s
     * @param changes_ whether anything changes
     */
    record Plan(List<NativeCommand> commands, List<Change> changes, long sequence, boolean changes_) {
    }

    /** Reads of the state before the batch (validated by the sequence check). */
    interface Probe {
        boolean keyExists(RegistryPath key);

        boolean valueExists(RegistryPath key, String name);
    }

    private BatchPlanner() {
    }

    static Plan plan(WriteBatch batch, long current, Probe probe) {
        return new Builder(current, probe).build(batch);
    }

    private static final class Builder {
        private final long current;
        private final long next;
        private final Probe probe;
        private final List<NativeCommand> body = new ArrayList<>();
        private final List<Change> changes = new ArrayList<>();
        private final Set<RegistryPath> existsByBatch = new HashSet<>();
        private final Set<RegistryPath> deletedByBatch = new HashSet<>();
        private final Map<RegistryPath, Map<String, Optional<RegistryValue>>> valuesByBatch = new HashMap<>();
        private final Map<RegistryPath, Boolean> probedKeys = new HashMap<>();
        private final Map<RegistryPath, Map<String, Boolean>> probedValues = new HashMap<>();
        /** The current-key pointer: null = cleared by DELETE_KEY; root = the base key. */
        private RegistryPath pointer = RegistryPath.root();
        private boolean mutates;
        private boolean stopped;

        Builder(long current, Probe probe) {
            this.current = current;
            this.next = current + 1;
            this.probe = probe;
        }

        Plan build(WriteBatch batch) {
            List<BatchCommand> commands = batch.commands();
            for (int i = 0; i < commands.size() && !stopped; i++) {
                add(i, commands.get(i));
            }
            List<NativeCommand> all = new ArrayList<>();
            all.add(current == 0
                    ? new NativeCommand(ClusApiTypes.CLUSREG_CONDITION_NOT_EXISTS, Reserved.SEQUENCE, ClusApiTypes.REG_NONE, null, -1, Role.SEQUENCE_CHECK)
                    : new NativeCommand(ClusApiTypes.CLUSREG_CONDITION_IS_EQUAL, Reserved.SEQUENCE, ClusApiTypes.REG_QWORD,
                    Reserved.qword(current), -1, Role.SEQUENCE_CHECK));
            if (mutates && !stopped) {
                all.add(new NativeCommand(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.SEQUENCE, ClusApiTypes.REG_QWORD, Reserved.qword(next), -1,
                        Role.HEADER));
                all.add(new NativeCommand(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.JOURNAL, ClusApiTypes.REG_BINARY,
                        Journal.encode(next, changes), -1, Role.HEADER));
            }
            all.addAll(body);
            boolean changing = mutates && !stopped;
            return new Plan(List.copyOf(all), List.copyOf(changes), changing ? next : current, changing);
        }

        private void add(int i, BatchCommand c) {
            if (c instanceof BatchCommand.CreateKey ck) {
                ensureKey(i, ck.key());
            } else if (c instanceof BatchCommand.SetValue sv) {
                ensureKey(i, sv.key());
                position(i, sv.key());
                RegistryValue v = sv.value();
                String n = NativeNames.value(sv.name());
                emit(ClusApiTypes.CLUSREG_SET_VALUE, n, v.type().windowsCode(), v.unsafeData(), i, Role.MUTATION);
                emit(ClusApiTypes.CLUSREG_SET_VALUE, Reserved.revisionOf(n), ClusApiTypes.REG_QWORD, Reserved.qword(next), i, Role.HEADER);
                changes.add(new Change.ValueSet(sv.key(), sv.name(), new VersionedValue(v, next)));
                valuesByBatch.computeIfAbsent(sv.key(), k -> new HashMap<>()).put(sv.name(), Optional.of(v));
            } else if (c instanceof BatchCommand.DeleteValue dv) {
                if (valueNow(dv.key(), dv.name())) {
                    position(i, dv.key());
                    String n = NativeNames.value(dv.name());
                    emit(ClusApiTypes.CLUSREG_DELETE_VALUE, n, 0, null, i, Role.MUTATION);
                    emit(ClusApiTypes.CLUSREG_DELETE_VALUE, Reserved.revisionOf(n), 0, null, i, Role.HEADER);
                    changes.add(new Change.ValueDeleted(dv.key(), dv.name()));
                    valuesByBatch.computeIfAbsent(dv.key(), k -> new HashMap<>()).put(dv.name(), Optional.empty());
                }
            } else if (c instanceof BatchCommand.DeleteKey dk) {
                if (keyNow(dk.key())) {
                    emit(ClusApiTypes.CLUSREG_DELETE_KEY, NativeNames.keyPath(dk.key()), 0, null, i, Role.MUTATION);
                    changes.add(new Change.KeyDeleted(dk.key()));
                    pointer = null;
                    markDeleted(dk.key());
                }
            } else if (c instanceof BatchCommand.KeyExists ke) {
                keyCondition(i, ke.key(), true);
            } else if (c instanceof BatchCommand.KeyAbsent ka) {
                keyCondition(i, ka.key(), false);
            } else if (c instanceof BatchCommand.ValueAbsent va) {
                Optional<Optional<RegistryValue>> known = valueByBatch(va.key(), va.name());
                if (known.isPresent()) {
                    decided(i, known.get().isEmpty());
                } else if (keyNow(va.key())) {
                    position(i, va.key());
                    emit(ClusApiTypes.CLUSREG_CONDITION_NOT_EXISTS, NativeNames.value(va.name()), ClusApiTypes.REG_NONE, null, i, Role.CONDITION);
                }
                // key missing before the batch and untouched by it: the value is absent, the condition holds
            } else if (c instanceof BatchCommand.ValueExists ve) {
                valueCondition(i, ve.key(), ve.name(), v -> v.isPresent(),
                        ClusApiTypes.CLUSREG_CONDITION_EXISTS, NativeNames.value(ve.name()), ClusApiTypes.REG_NONE, null);
            } else if (c instanceof BatchCommand.ValueEquals eq) {
                valueCondition(i, eq.key(), eq.name(), v -> v.isPresent() && v.get().equals(eq.expected()),
                        ClusApiTypes.CLUSREG_CONDITION_IS_EQUAL, NativeNames.value(eq.name()), eq.expected().type().windowsCode(), eq.expected().unsafeData());
            } else if (c instanceof BatchCommand.RevisionEquals re) {
                // a value set earlier in this batch has revision s+1
                valueCondition(i, re.key(), re.name(), v -> v.isPresent() && re.revision() == next,
                        ClusApiTypes.CLUSREG_CONDITION_IS_EQUAL, Reserved.revisionOf(NativeNames.value(re.name())), ClusApiTypes.REG_QWORD,
                        Reserved.qword(re.revision()));
            } else {
                throw new IllegalArgumentException("unknown batch command " + c);
            }
        }

        private void keyCondition(int i, RegistryPath key, boolean mustExist) {
            Boolean known = key.isRoot() ? Boolean.TRUE : keyByBatch(key);
            if (known != null) {
                decided(i, known == mustExist);
            } else {
                emit(mustExist ? ClusApiTypes.CLUSREG_CONDITION_KEY_EXISTS : ClusApiTypes.CLUSREG_CONDITION_KEY_NOT_EXISTS,
                        NativeNames.keyPath(key), ClusApiTypes.REG_NONE, null, i, Role.CONDITION);
            }
        }

        private void valueCondition(int i, RegistryPath key, String name, java.util.function.Predicate<Optional<RegistryValue>> decide,
                                    int command, String nativeName, int options, byte[] data) {
            Optional<Optional<RegistryValue>> known = valueByBatch(key, name);
            if (known.isPresent()) {
                decided(i, decide.test(known.get()));
                return;
            }
            Boolean keyKnown = key.isRoot() ? Boolean.TRUE : keyByBatch(key);
            if (keyKnown == null) {
                // the value cannot exist in a missing key: the key test is part of the user's condition
                emit(ClusApiTypes.CLUSREG_CONDITION_KEY_EXISTS, NativeNames.keyPath(key), ClusApiTypes.REG_NONE, null, i, Role.CONDITION);
            }
            position(i, key);
            emit(command, nativeName, options, data, i, Role.CONDITION);
        }

        /** A condition the plan decided: true emits nothing; false emits the always-failing condition and ends the plan. */
        private void decided(int i, boolean holds) {
            if (!holds) {
                emit(ClusApiTypes.CLUSREG_CONDITION_KEY_EXISTS, Reserved.NEVER_EXISTS, ClusApiTypes.REG_NONE, null, i, Role.FORCED_FALSE);
                stopped = true;
            }
        }

        private void ensureKey(int i, RegistryPath key) {
            List<RegistryPath> chain = new ArrayList<>();
            for (RegistryPath p = key; !p.isRoot(); p = p.parent()) {
                chain.add(0, p);
            }
            for (RegistryPath p : chain) {
                if (!keyNow(p)) {
                    emit(ClusApiTypes.CLUSREG_CREATE_KEY, NativeNames.keyPath(p), 0, null, i, Role.MUTATION);
                    pointer = p;
                    changes.add(new Change.KeyCreated(p));
                    existsByBatch.add(p);
                }
            }
        }

        private void position(int i, RegistryPath key) {
            if (!key.equals(pointer)) {
                emit(ClusApiTypes.CLUSREG_CREATE_KEY, NativeNames.keyPath(key), 0, null, i, Role.POSITION);
                pointer = key;
            }
        }

        private void emit(int command, String name, int options, byte[] data, int userIndex, Role role) {
            body.add(new NativeCommand(command, name, options, data, userIndex, role));
            if (role == Role.MUTATION) {
                mutates = true;
            }
        }

        private void markDeleted(RegistryPath key) {
            existsByBatch.removeIf(key::contains);
            deletedByBatch.removeIf(key::contains);
            deletedByBatch.add(key);
            valuesByBatch.keySet().removeIf(key::contains);
        }

        /** Whether the batch so far decides the key's existence; null when it does not. */
        private Boolean keyByBatch(RegistryPath key) {
            if (key.isRoot() || existsByBatch.contains(key)) {
                return Boolean.TRUE;
            }
            for (RegistryPath d : deletedByBatch) {
                if (d.contains(key)) {
                    return Boolean.FALSE;
                }
            }
            return null;
        }

        /** The value as the batch so far decides it; empty when it does not decide it. */
        private Optional<Optional<RegistryValue>> valueByBatch(RegistryPath key, String name) {
            Map<String, Optional<RegistryValue>> m = valuesByBatch.get(key);
            if (m != null && m.containsKey(name)) {
                return Optional.of(m.get(name));
            }
            for (RegistryPath d : deletedByBatch) {
                if (d.contains(key)) {
                    return Optional.of(Optional.empty());
                }
            }
            return Optional.empty();
        }

        private boolean keyNow(RegistryPath key) {
            Boolean b = keyByBatch(key);
            return b != null ? b : probedKeys.computeIfAbsent(key, probe::keyExists);
        }

        private boolean valueNow(RegistryPath key, String name) {
            Optional<Optional<RegistryValue>> known = valueByBatch(key, name);
            if (known.isPresent()) {
                return known.get().isPresent();
            }
            if (!keyNow(key)) {
                return false;
            }
            return probedValues.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(name, n -> probe.valueExists(key, n));
        }
    }
}
