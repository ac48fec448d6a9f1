/**
 * Says which database the run covered: a local `npm test` runs SQLite only, and a silent pass there
 * must not be read as "PostgreSQL works too".
 */
export default function setup() {
  return () => {
    const url = process.env.SESAME_TEST_DATABASE_URL;
    if (url) {
      console.log(`\nsesame: tests ran on PostgreSQL (${url.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@")})`);
    } else {
      console.log(
        "\nsesame: tests ran on SQLite only; PostgreSQL was NOT tested. Run them there too with:\n" +
          "  SESAME_TEST_DATABASE_URL=postgres://root@127.0.0.1:5432/test npm test",
      );
    }
  };
}
