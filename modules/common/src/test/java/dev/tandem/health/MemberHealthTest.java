package dev.tandem.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.tandem.health.MemberHealth.State;
import org.junit.jupiter.api.Test;

/** One checker's fall/rise hysteresis on one member. */
class MemberHealthTest {
    private static final int FALL = 2;
    private static final int RISE = 3;
    private static final String FAILED = "connection refused";

    private final MemberHealth health = new MemberHealth();

    @Test
    void theFirstResultDecidesAtOnce() {
        assertThat(health.state()).isEqualTo(State.UNKNOWN);
        assertThat(health.published()).as("nothing to publish before the first check").isNull();

        assertThat(health.record(FAILED, FALL, RISE)).isTrue();
        assertThat(health.state()).isEqualTo(State.DOWN);
        assertThat(health.published()).isEqualTo("down: " + FAILED);

        MemberHealth other = new MemberHealth();
        assertThat(other.record(null, FALL, RISE)).isTrue();
        assertThat(other.published()).isEqualTo("up");
    }

    @Test
    void anUpMemberGoesDownAfterFallFailuresInARow() {
        health.record(null, FALL, RISE);

        assertThat(health.record(FAILED, FALL, RISE)).isFalse();
        assertThat(health.state()).isEqualTo(State.UP);
        assertThat(health.record("timed out", FALL, RISE)).isTrue();
        assertThat(health.state()).isEqualTo(State.DOWN);
        assertThat(health.published()).as("the latest problem").isEqualTo("down: timed out");
    }

    @Test
    void aSuccessInBetweenStartsTheCountAgain() {
        health.record(null, FALL, RISE);
        for (int i = 0; i < 5; i++) {
            assertThat(health.record(FAILED, FALL, RISE)).isFalse();
            assertThat(health.record(null, FALL, RISE)).isFalse();
        }
        assertThat(health.state()).isEqualTo(State.UP);
    }

    @Test
    void aDownMemberComesBackAfterRiseSuccessesInARow() {
        health.record(FAILED, FALL, RISE);

        assertThat(health.record(null, FALL, RISE)).isFalse();
        assertThat(health.record(null, FALL, RISE)).isFalse();
        assertThat(health.record(FAILED, FALL, RISE)).as("a failure starts the count again").isFalse();
        assertThat(health.record(null, FALL, RISE)).isFalse();
        assertThat(health.record(null, FALL, RISE)).isFalse();
        assertThat(health.state()).isEqualTo(State.DOWN);
        assertThat(health.record(null, FALL, RISE)).isTrue();
        assertThat(health.state()).isEqualTo(State.UP);
        assertThat(health.published()).isEqualTo("up");
    }

    @Test
    void fallAndRiseOfOneFollowEveryResult() {
        assertThat(health.record(null, 1, 1)).isTrue();
        assertThat(health.record(FAILED, 1, 1)).isTrue();
        assertThat(health.state()).isEqualTo(State.DOWN);
        assertThat(health.record(null, 1, 1)).isTrue();
        assertThat(health.state()).isEqualTo(State.UP);
    }
}
