package dev.reliablestore.basic;

import dev.reliablestore.api.Persistence;
import dev.reliablestore.api.StoreFactory;
import dev.reliablestore.tck.ValueFidelityTck;

import java.util.Map;

/** The value-fidelity kit against the memory provider. */
class MemoryValueFidelityTest extends ValueFidelityTck {

    @Override
    protected StoreFactory openFactory() {
        return Persistence.openFactory("memory", Map.of());
    }
}
