package dev.tandem.shell.ssh;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LoginThrottleTest {
    private long now = -5_000_000_000L; // System.nanoTime() may well be negative
    private final LoginThrottle throttle = new LoginThrottle(() -> now);

    private void advance(Duration d) {
        now += d.toNanos();
    }

    private Duration fail(int times) {
        Duration last = Duration.ZERO;
        for (int i = 0; i < times; i++) {
            last = throttle.failure("10.0.0.1");
        }
        return last;
    }

    @Test
    void fiveFailuresWithinAMinuteStartABackOffThatDoublesUpToFiveMinutes() {
        assertThat(throttle.blockedFor("10.0.0.1")).isZero();
        assertThat(fail(4)).isZero();
        assertThat(throttle.blockedFor("10.0.0.1")).isZero();
        assertThat(fail(1)).isEqualTo(Duration.ofSeconds(10));
        assertThat(throttle.blockedFor("10.0.0.1")).isEqualTo(Duration.ofSeconds(10));
        assertThat(throttle.blockedFor("10.0.0.2")).isZero();

        // failures during the back-off neither count nor extend it
        assertThat(fail(10)).isZero();
        advance(Duration.ofSeconds(4));
        assertThat(throttle.blockedFor("10.0.0.1")).isEqualTo(Duration.ofSeconds(6));
        advance(Duration.ofSeconds(6));
        assertThat(throttle.blockedFor("10.0.0.1")).isZero();

        Duration expected = Duration.ofSeconds(20);
        for (int round = 0; round < 8; round++) {
            assertThat(fail(5)).isEqualTo(expected);
            advance(expected);
            expected = expected.multipliedBy(2);
            if (expected.compareTo(Duration.ofMinutes(5)) > 0) {
                expected = Duration.ofMinutes(5);
            }
        }
    }

    @Test
    void failuresOlderThanTheWindowDoNotCount() {
        for (int i = 0; i < 20; i++) {
            assertThat(throttle.failure("10.0.0.1")).isZero();
            advance(Duration.ofSeconds(16)); // 4 per minute
        }
        assertThat(throttle.blockedFor("10.0.0.1")).isZero();
    }

    @Test
    void theLevelIsForgottenAfterAQuietQuarterOfAnHour() {
        assertThat(fail(5)).isEqualTo(Duration.ofSeconds(10));
        advance(Duration.ofSeconds(10));
        assertThat(fail(5)).isEqualTo(Duration.ofSeconds(20));
        advance(Duration.ofMinutes(16));
        assertThat(fail(5)).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void staleAddressesAreDropped() {
        for (int i = 0; i < 300; i++) {
            throttle.failure("10.1." + (i / 256) + "." + (i % 256));
        }
        assertThat(throttle.tracked()).isEqualTo(300);
        advance(Duration.ofMinutes(20));
        for (int i = 0; i < 300; i++) {
            throttle.failure("10.2.0.1");
        }
        assertThat(throttle.tracked()).isEqualTo(1);
    }
}
