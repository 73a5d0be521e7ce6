package dev.reliablestore.registry;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The answers to a {@link ReadBatch}, in the order of its reads, all as of commit {@link #sequence()}:
 * every batch with a sequence up to it is visible, none after it.
 */
public final class ReadBatchResult {

    private final long sequence;
    private final List<Optional<?>> answers;

    /** For backends: the answers in read order (types as documented on each {@link ReadBatch.Read}). */
    public ReadBatchResult(long sequence, List<Optional<?>> answers) {
        this.sequence = sequence;
        this.answers = List.copyOf(answers);
    }

    public long sequence() {
        return sequence;
    }

    public int size() {
        return answers.size();
    }

    @SuppressWarnings("unchecked")
    public Optional<VersionedValue> value(int index) {
        return (Optional<VersionedValue>) answers.get(index);
    }

    @SuppressWarnings("unchecked")
    public Optional<Map<String, VersionedValue>> values(int index) {
        return (Optional<Map<String, VersionedValue>>) answers.get(index);
    }

    @SuppressWarnings("unchecked")
    public Optional<List<String>> subkeys(int index) {
        return (Optional<List<String>>) answers.get(index);
    }
}
