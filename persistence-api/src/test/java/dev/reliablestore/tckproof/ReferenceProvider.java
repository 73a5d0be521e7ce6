package dev.reliablestore.tckproof;

import dev.reliablestore.api.ConfigurationException;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.spi.PersistenceProvider;

import java.util.Map;
import java.util.Set;

/** The reference provider registered for the tests of {@link dev.reliablestore.api.Persistence}. */
public final class ReferenceProvider implements PersistenceProvider {

    static final String NAME = "tck-reference";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public StoreFactory open(Map<String, String> configuration) {
        if (!configuration.isEmpty()) {
            throw new ConfigurationException("unknown configuration keys for provider " + NAME + ": "
                    + new java.util.TreeSet<>(configuration.keySet()) + "; it takes none");
        }
        return new ReferenceStoreFactory(new ReferenceStorage(), Set.of());
    }
}
