package dev.reliablestore.registry.clusapi;

import java.util.Map;

/**
 * The conformance suite again, with the fake switched to the other reading of two facts the
 * reference marks unverified: failedCommandNumber counts from 1 (MS-CMRP) and conditions see only
 * the state before the batch. The backend, configured with {@code failedCommandBase=1}, must behave
 * identically.
 */
class ClusapiFakeAlternateSemanticsConformanceTest extends ClusapiFakeConformanceTest {

    @Override
    protected FakeClusApi newFake() {
        FakeClusApi f = super.newFake();
        f.failedCommandBase = 1;
        f.conditionsSeeEarlierWrites = false;
        return f;
    }

    @Override
    protected Map<String, String> options() {
        return Map.of("localNode", "NODE1", "failedCommandBase", "1");
    }
}
