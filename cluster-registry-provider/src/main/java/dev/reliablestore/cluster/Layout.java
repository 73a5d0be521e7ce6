package dev.reliablestore.cluster;

import dev.reliablestore.api.InvalidIdException;
import dev.reliablestore.registry.RegistryPath;

/**
 * Where things live below the storage root ({@code <resourceGroupName>/<registryKeyPath>}).
 *
 * <pre>
 * &lt;root&gt;/Entities/&lt;Type&gt;/&lt;Id&gt;                 BINARY  entity envelope
 * &lt;root&gt;/Entities/&lt;Type&gt;/_metadata            BINARY  type descriptor (JSON)
 * &lt;root&gt;/Entities/&lt;Type&gt;/_versions/&lt;Id&gt;       QWORD   entity version (set in the same batch as the envelope)
 * &lt;root&gt;/Configuration/Version                DWORD   layout version
 * &lt;root&gt;/Configuration/Schema                 SZ      description of this layout
 * &lt;root&gt;/Configuration/KeySalt                BINARY  16 random bytes (passphrase key derivation)
 * &lt;root&gt;/Configuration/Dictionaries/&lt;Type&gt;/&lt;n&gt; BINARY  zstd dictionary n of a type (never rewritten)
 * </pre>
 */
final class Layout {

    static final int VERSION = 1;
    static final String METADATA = "_metadata";
    static final String VERSIONS = "_versions";
    static final String VERSION_VALUE = "Version";
    static final String SCHEMA_VALUE = "Schema";
    static final String KEY_SALT_VALUE = "KeySalt";
    static final String SCHEMA = "ReliableStore cluster-registry layout " + VERSION + ": "
            + "Entities/<Type>/<Id> = entity envelope (BINARY, envelope format " + EnvelopeCodec.FORMAT + "); "
            + "Entities/<Type>/_versions/<Id> = entity version (QWORD); "
            + "Entities/<Type>/_metadata = type descriptor (BINARY, JSON); "
            + "Configuration/KeySalt = passphrase salt (BINARY); "
            + "Configuration/Dictionaries/<Type>/<n> = zstd dictionary (BINARY)";

    private final RegistryPath root;
    private final RegistryPath entities;
    private final RegistryPath configuration;
    private final RegistryPath dictionaries;

    Layout(RegistryPath root) {
        this.root = root;
        this.entities = root.child("Entities");
        this.configuration = root.child("Configuration");
        this.dictionaries = configuration.child("Dictionaries");
    }

    RegistryPath root() {
        return root;
    }

    RegistryPath configuration() {
        return configuration;
    }

    RegistryPath type(String typeName) {
        return entities.child(typeName);
    }

    RegistryPath versions(String typeName) {
        return entities.child(typeName).child(VERSIONS);
    }

    RegistryPath dictionaries(String typeName) {
        return dictionaries.child(typeName);
    }

    /** Ids are stored as value names unchanged; the one name the layout uses itself is refused. */
    static String requireStorableId(String id) {
        if (METADATA.equals(id)) {
            throw new InvalidIdException(id, "invalid entity id \"" + id + "\": it is reserved for the type's metadata value "
                    + "in the cluster-registry layout");
        }
        return id;
    }
}
