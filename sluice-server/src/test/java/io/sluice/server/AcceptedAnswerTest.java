package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@code sluice load} takes as a 202 that accepted a batch of two payloads. */
class AcceptedAnswerTest {
  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"accepted\":2,\"ids\":[\"a\",\"b\"]}",
        "{ \"ids\" : [ \"a\" , \"b\" ] ,\n \"accepted\" : 2 }\n",
        "{\"accepted\":2,\"note\":{\"x\":[1,{\"y\":2}]},\"ids\":[\"a\\\"\",\"b\"]}"
      })
  void theWholeBatchAcceptedWithOneIdAPayloadInAnyLayoutIsASuccess(String body) {
    assertNull(AcceptedAnswer.mismatch(body, 2), body);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"accepted":1,"ids":["a","b"]}        | "accepted" is 1, not the 2 payloads sent
          {"accepted":2,"ids":["a"]}            | "ids" names 1 jobs, not the 2 payloads sent
          {"accepted":2,"ids":["a",2]}          | "ids" holds something other than strings
          {"accepted":2.0,"ids":["a","b"]}      | "accepted" is not a count
          {"accepted":"2","ids":["a","b"]}      | "accepted" is not a count
          {"accepted":2}                        | no "ids"
          {"ids":["a","b"]}                     | no "accepted" count
          {"accepted":2,"ids":{}}               | "ids" is not an array
          [2]                                   | the body is not a JSON object
          {"accepted":2,"ids":["a","b"]} {}     | the body goes on after its JSON object
          """)
  void anyOtherBodyIsAMismatchSayingWhatIsWrong(String body, String why) {
    assertEquals(why, AcceptedAnswer.mismatch(body, 2), body);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "accepted",
        "{\"accepted\":2,\"ids\":[\"a\",\"b\"]",
        "{\"accepted\":2,\"accepted\":2,\"ids\":[\"a\",\"b\"]}"
      })
  void aBodyThatIsNotWellFormedOrHasADuplicateMemberIsAMismatch(String body) {
    String why = AcceptedAnswer.mismatch(body, 2);

    assertTrue(
        why != null
            && (why.startsWith("the body is not the JSON expected: ")
                || why.equals("the body is not a JSON object")),
        body + " -> " + why);
  }
}
