package dev.reliablestore.cli;

import dev.reliablestore.registry.RegistryPath;

/**
 * The cluster-registry provider's storage layout below its root, as documented in
 * docs/configuration.md: the tool reads the raw tree for snapshots, counts and the change feed.
 *
 * <pre>
 * &lt;root&gt;/Entities/&lt;Type&gt;/&lt;Id&gt;            BINARY entity envelope
 * &lt;root&gt;/Entities/&lt;Type&gt;/_metadata       BINARY type descriptor
 * &lt;root&gt;/Entities/&lt;Type&gt;/_versions/&lt;Id&gt;  QWORD  entity version, written in the same batch as the envelope
 * &lt;root&gt;/Configuration/Version           DWORD  layout version
 * </pre>
 */
record RegistryLayout(RegistryPath root) {

    static final String ENTITIES = "Entities";
    static final String CONFIGURATION = "Configuration";
    static final String METADATA = "_metadata";
    static final String VERSIONS = "_versions";
    static final String LAYOUT_VERSION = "Version";

    RegistryPath entities() {
        return root.child(ENTITIES);
    }

    RegistryPath configuration() {
        return root.child(CONFIGURATION);
    }

    RegistryPath type(String typeName) {
        return entities().child(typeName);
    }

    RegistryPath versions(String typeName) {
        return type(typeName).child(VERSIONS);
    }

    /** The type whose version records live in {@code key}, or null when {@code key} is not such a key. */
    String typeOfVersionsKey(RegistryPath key) {
        if (key.depth() == root.depth() + 3 && key.name().equals(VERSIONS) && key.isBelow(entities())) {
            return key.parent().name();
        }
        return null;
    }

    /** The type whose envelopes live in {@code key}, or null. */
    String typeOfTypeKey(RegistryPath key) {
        if (key.depth() == root.depth() + 2 && key.isBelow(entities())) {
            return key.name();
        }
        return null;
    }
}
