package dev.reliablestore.cluster;

import dev.reliablestore.cluster.EntityRecords.Stored;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The values of one entity type read from the registry and decoded (decrypted, decompressed) on every read. */
final class DecodedRecords implements EntityValues {

    private final EntityRecords records;
    private final EnvelopeCodec envelopes;

    DecodedRecords(EntityRecords records, EnvelopeCodec envelopes) {
        this.records = records;
        this.envelopes = envelopes;
    }

    @Override
    public Found get(List<String> ids) {
        return decoded(records.get(ids));
    }

    @Override
    public Found all() {
        return decoded(records.all());
    }

    @Override
    public boolean exists(String id) {
        return records.exists(id);
    }

    private Found decoded(EntityRecords.Read read) {
        Map<String, Decoded> values = new LinkedHashMap<>();
        for (Map.Entry<String, Stored> e : read.entities().entrySet()) {
            Stored s = e.getValue();
            values.put(e.getKey(), new Decoded(envelopes.decode(records.typeName(), e.getKey(), s.version(), s.envelope()),
                    s.version(), s.revision()));
        }
        return new Found(values, read.sequence());
    }
}
