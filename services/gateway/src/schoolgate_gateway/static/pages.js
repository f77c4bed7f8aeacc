// The page table: which pages each kind of person has, and how to load each one. A page's
// module is fetched the first time its route opens, so a parent's phone never downloads the
// staff tools or the import wizard.
import { state } from "./core/state.js";
import { CLASSROOM } from "./core/words.js";

/** A page's builder that imports its module on first use (the browser keeps it after). */
const page = (load, name) => async (route) => (await load())[name](route);

/** A page about one thing, reached from another page: signed out, the sign-in form instead. */
const mine = (load, name) => async (route) =>
  state.me ? (await load())[name](route) : (await import("./pages/sign-in.js")).signInView(route);

/** Pages reached by their address only, for anyone. */
export const ROUTES = {
  join: { title: "Join", build: page(() => import("./pages/join.js"), "joinView") },
  setup: { title: "Choose your password", build: async (route) => (await import("./pages/setup.js")).setupView(route.token) },
  forgot: { title: "Forgotten password", build: page(() => import("./pages/password-reset.js"), "forgotView") },
  reset: { title: "Choose a new password", build: page(() => import("./pages/password-reset.js"), "resetView") },
  open: { title: "Open your school", build: async (route) => (await import("./pages/open-school.js")).openSchoolView(route.token) },
  board: { title: "Class board", build: page(() => import("./pages/board.js"), "boardView") },
  // messaging pages reached from the Messages page (signed in; the service decides who sees what)
  conversation: { title: "Conversation", build: mine(() => import("./pages/conversation.js"), "conversationView") },
  write: { title: "New message", build: mine(() => import("./pages/write.js"), "writeView") },
  announce: { title: "Announcement to a class", build: mine(() => import("./pages/write.js"), "announceView") },
  "notification-settings": { title: "How you hear from school", build: mine(() => import("./pages/notification-settings.js"), "notificationSettingsView") },
  absence: { title: "Report an absence", build: mine(() => import("./pages/absence.js"), "absenceView") },
};

const STAFF_PAGES = [
  { id: "home", title: "Home", roles: ["leader", "office", "school_admin"], build: page(() => import("./pages/staff-home.js"), "staffHomeView") },
  { id: "award", title: "Award points", roles: CLASSROOM, build: page(() => import("./pages/award.js"), "awardView"), about: "Give points for the school's values to a child, a group or the whole class." },
  { id: "messages", title: "Messages", roles: ["teacher", "teaching_assistant", "leader", "office"], build: page(() => import("./pages/messages.js"), "messagesView"), about: "Conversations with families about their children, and announcements to a class." },
  { id: "notifications", title: "Notifications", roles: ["teacher", "teaching_assistant", "leader", "office"], build: page(() => import("./pages/notifications.js"), "notificationsView"), about: "What families wrote, stories and reports, in one list; new ones first." },
  { id: "absences", title: "Absences", roles: ["office", "leader"], build: page(() => import("./pages/absence.js"), "absencesView"), about: "Absences families reported: mark each one recorded once it is in the register." },
  { id: "post", title: "Post a story", roles: CLASSROOM, build: page(() => import("./pages/compose.js"), "composeView"), about: "Share news with photos to your class, a year group or the whole school." },
  { id: "stories", title: "Our stories", roles: CLASSROOM, build: page(() => import("./pages/stories.js"), "storiesView"), about: "Stories posted so far, who liked them; edit or delete them." },
  { id: "approve", title: "Approve work", roles: CLASSROOM, build: page(() => import("./pages/approve.js"), "approveView"), about: "Work pupils sent: approve it for their family, or send it back with a note." },
  { id: "home-learning", title: "Home learning", roles: ["teacher", "leader"], build: page(() => import("./pages/home-learning.js"), "homeLearningView"), about: "Set a task for a class and see who has handed it in." },
  { id: "report", title: "Points report", roles: ["teacher", "leader"], build: page(() => import("./pages/report.js"), "reportView"), about: "A class's points by pupil and by value over a period, to read or download." },
  { id: "targets", title: "Daily targets", roles: ["teacher"], build: page(() => import("./pages/targets.js"), "targetsView"), about: "Set a child's own daily points target." },
  { id: "class-code", title: "Class code", roles: CLASSROOM, build: page(() => import("./pages/class-code.js"), "classCodeView"), about: "Show a code so pupils can sign in on classroom devices." },
  { id: "class-board", title: "Class board", roles: CLASSROOM, build: page(() => import("./pages/board.js"), "boardCodeView"), about: "Show every child and the class's points on the classroom screen, live." },
  { id: "cards", title: "Sign-in cards", roles: CLASSROOM, build: page(() => import("./pages/cards.js"), "cardsView"), about: "Print a QR card a pupil can sign in with." },
  { id: "invites", title: "Invite letters", roles: ["teacher", "leader", "office", "school_admin"], build: page(() => import("./pages/invites.js"), "invitesView"), about: "Print a letter with a code for a parent or carer to join." },
  // setting the school up by hand, no file needed (the import below does it from a file)
  { id: "staff-roles", title: "Staff and roles", roles: ["leader", "school_admin"], build: page(() => import("./pages/staff.js"), "staffView"), about: "Add staff, and choose each one's role and classes." },
  { id: "classes", title: "Year groups and classes", roles: ["leader", "school_admin"], build: page(() => import("./pages/classes.js"), "classesView"), about: "Add and rename the school's year groups and classes." },
  { id: "class-lists", title: "Class lists", roles: ["leader", "school_admin"], build: page(() => import("./pages/class-lists.js"), "classListsView"), about: "Each class's pupils; add a pupil by hand." },
  { id: "values", title: "Our values", roles: ["leader", "school_admin"], build: page(() => import("./pages/values.js"), "valuesView"), about: "The values points are given for, each with its icon and colour." },
  { id: "school-day", title: "School day", roles: ["leader", "school_admin"], build: page(() => import("./pages/school-day.js"), "schoolDayView"), about: "The school's name, timezone, days and hours, and the day its week starts." },
  { id: "term-dates", title: "Term dates", roles: ["leader", "school_admin"], build: page(() => import("./pages/term-dates.js"), "termDatesView"), about: "The school's terms, and so its holidays." },
  { id: "conduct", title: "Code of conduct", roles: ["leader", "school_admin"], build: page(() => import("./pages/conduct.js"), "conductView"), about: "The rules parents agree to before they see anything." },
  { id: "class-letters", title: "Letters for a class", roles: ["teacher", "leader", "office", "school_admin"], build: page(() => import("./pages/class-letters.js"), "classLettersView"), about: "Invite letters for every family of a class, or of the school, to print at once." },
  { id: "import", title: "Import pupils", roles: ["leader", "school_admin"], build: page(() => import("./pages/import.js"), "importView"), about: "Bring in pupils, classes and staff from your school's information system." },
  { id: "requests", title: "Join requests", roles: ["leader"], build: page(() => import("./pages/requests.js"), "requestsView"), about: "Decide about a third parent or carer of a child." },
  { id: "invite-activity", title: "Invites and new guardians", roles: ["leader", "school_admin"], build: page(() => import("./pages/invite-activity.js"), "inviteActivityView"), about: "Every invite letter made, printed and used, and who joined as a parent or carer." },
  { id: "media", title: "Photo consent", roles: ["leader", "office", "school_admin"], build: page(() => import("./pages/photo-consent.js"), "mediaView"), about: "Record whether photos of a child are allowed." },
  { id: "class-consent", title: "Consent for a class", roles: ["leader", "office", "school_admin"], build: page(() => import("./pages/class-consent.js"), "classConsentView"), about: "A whole class's answers about photos, in one table." },
  { id: "in-care", title: "Pupils in care", roles: ["leader"], build: page(() => import("./pages/in-care.js"), "inCareView"), about: "The pupils in local-authority care, and whether any photos of them are allowed." },
  { id: "leavers", title: "Pupils who have left", roles: ["leader", "school_admin"], build: page(() => import("./pages/leavers.js"), "leaversView"), about: "Mark a pupil as left, download their record, and erase it." },
  { id: "retention", title: "Keeping data", roles: ["leader", "school_admin"], build: page(() => import("./pages/retention.js"), "retentionView"), about: "How long the school keeps a pupil's record after they leave." },
  { id: "audit", title: "Who looked at records", roles: ["leader", "school_admin"], build: page(() => import("./pages/audit.js"), "auditView"), about: "Which member of staff opened which child's record, and when." },
  { id: "parents", title: "Parent accounts", roles: ["leader"], build: page(() => import("./pages/parents.js"), "parentsView"), about: "Suspend a parent or carer account, or lift a suspension." },
  { id: "points-settings", title: "Points settings", roles: ["leader"], build: page(() => import("./pages/points-settings.js"), "pointsSettingsView"), about: "Turn “needs work” points on or off, and set how long a point can be undone." },
  { id: "reported", title: "Reported messages", roles: ["leader"], build: page(() => import("./pages/reports.js"), "reportsView"), about: "Messages staff or parents reported: read the conversation, then dismiss, hide, warn or suspend." },
  { id: "replies-waiting", title: "Replies waiting", roles: ["leader"], build: page(() => import("./pages/response-times.js"), "responseTimesView"), about: "How many families wait for a reply, by class and for the office, and for how long." },
  { id: "messaging-settings", title: "Messaging settings", roles: ["leader"], build: page(() => import("./pages/messaging-settings.js"), "messagingSettingsView"), about: "Switch messaging off for the whole school in an emergency; the office's hours, phone number and words." },
  { id: "school-notifications", title: "School notifications", roles: ["leader"], build: page(() => import("./pages/school-notifications.js"), "schoolNotificationsView"), about: "When the daily round-up goes, and an emergency notice to every family at once." },
  { id: "story-settings", title: "Story settings", roles: ["leader"], build: page(() => import("./pages/story-settings.js"), "storySettingsView"), about: "Turn comments on stories on or off." },
  { id: "staff", title: "Staff set-up links", roles: ["leader", "school_admin"], build: page(() => import("./pages/staff-links.js"), "staffLinksView"), about: "Give staff a link to choose their password." },
  { id: "account", title: "Your account", roles: ["teacher", "teaching_assistant", "leader", "office", "school_admin"], build: page(() => import("./pages/account.js"), "accountView"), about: "Two-step sign-in, downloading your data, and signing out everywhere." },
];

export function pagesFor(me) {
  if (!me) {
    return [
      { id: "home", title: "Sign in", build: page(() => import("./pages/sign-in.js"), "signInView") },
      { id: "card-not-valid", title: "Sign in", build: page(() => import("./pages/sign-in.js"), "signInView") },
      { id: "pupil", title: "Pupil sign in", build: page(() => import("./pages/pupil-sign-in.js"), "pupilSignInView") },
    ];
  }
  if (me.role === "parent") {
    return [
      { id: "home", title: me.children?.length === 1 ? "Your child" : "Your children", build: page(() => import("./pages/family.js"), "familyView") },
      { id: "news", title: "News", build: page(() => import("./pages/news.js"), "newsView") },
      { id: "messages", title: "Messages", build: page(() => import("./pages/messages.js"), "messagesView") },
      { id: "notifications", title: "Notifications", build: page(() => import("./pages/notifications.js"), "notificationsView") },
      { id: "home-learning", title: "Home learning", build: page(() => import("./pages/child-home-learning.js"), "familyHomeLearningView") },
      { id: "account", title: "Your account", build: page(() => import("./pages/account.js"), "accountView") },
    ];
  }
  if (me.role === "pupil") {
    return [
      { id: "home", title: "My points", build: page(() => import("./pages/pupil-home.js"), "pupilHomeView") },
      { id: "work", title: "My work", build: page(() => import("./pages/work.js"), "workView") },
    ];
  }
  return STAFF_PAGES.filter((p) => p.roles.includes(me.role));
}
