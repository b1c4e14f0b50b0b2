// A deterministic English corpus (~80 KB) for training the tiny models' byte-level BPE: hand-written
// sentences on everyday topics, question/answer pairs, arithmetic, dates and prices, lists and a little
// code, shuffled by a seeded generator so the text (and so the merges) are identical on every run.
import { mulberry32 } from './random';

const TOPICS: Record<string, string[]> = {
  cooking: [
    'Bring a large pot of salted water to a boil before you add the pasta.',
    'Chop the onions finely and fry them in olive oil until they are soft and golden.',
    "Don't forget to taste the sauce and add a pinch of salt if it needs it.",
    'Bread dough should rest for about an hour, until it has doubled in size.',
    'A sharp knife is safer than a dull one, because it does not slip.',
    'Whisk the eggs with the milk, then pour the mixture into the hot pan.',
    'The soup tastes better the next day, when the flavours have had time to mix.',
    'Rice needs twice as much water as rice, and about twenty minutes on a low heat.',
    'She baked a lemon cake for her neighbours and a crème brûlée for dessert.',
    'Wash the vegetables, peel the carrots and cut the potatoes into small cubes.',
    'Keep the butter cold so that the pastry stays light and flaky.',
    'If the oven is too hot, the outside of the cake burns before the inside is done.',
    'Fresh herbs such as basil, parsley and thyme should be added at the end.',
    'We had tea with honey, a slice of toast and two boiled eggs for breakfast.',
    "The recipe says 200 g of flour, 100 g of sugar and 3 eggs; it's easy to double.",
  ],
  travel: [
    'The train to the coast leaves at half past nine from platform four.',
    'Remember to bring your passport, your tickets and a charger for your phone.',
    'We walked through the old town and stopped at a small café near the river.',
    'The flight was delayed by two hours because of the snow in the north.',
    'Our hotel was close to the station, so we could walk everywhere.',
    'In the summer the beaches are crowded, but in the autumn they are quiet.',
    'They rented bicycles and rode along the lake until the sun went down.',
    'The museum is closed on Mondays, so plan your visit for another day.',
    'A good map and comfortable shoes are the most useful things on a walking trip.',
    'From São Paulo they flew to Lisbon, and then took a night bus to Madrid.',
    'The mountain road is narrow and steep, so drive slowly and carefully.',
    'At the market you can buy fruit, bread, cheese and fresh flowers.',
    "If you're lost, ask someone at the information desk for directions.",
    'We spent three nights in München and two in Zürich before going home.',
    'The ferry crosses the bay every hour, and the trip takes forty minutes.',
  ],
  science: [
    'Water boils at one hundred degrees Celsius at sea level.',
    'The Earth goes around the Sun once a year and turns on its axis once a day.',
    'Plants use light, water and carbon dioxide to make sugar and oxygen.',
    'Sound travels faster in water than it does in air.',
    'The Moon has no light of its own; it reflects the light of the Sun.',
    'An atom has a small heavy nucleus and a cloud of electrons around it.',
    'Heat always flows from a warmer object to a colder one.',
    'The human heart beats about seventy times a minute when we are at rest.',
    'A rainbow appears when sunlight is bent and split by drops of rain.',
    'Ice floats because it is less dense than liquid water.',
    'Energy cannot be created or destroyed, only changed from one form to another.',
    'Light from the Sun takes about eight minutes to reach the Earth.',
    'Bees carry pollen from flower to flower, which helps the plants make seeds.',
    'The speed of light is close to three hundred thousand kilometres per second.',
    'A simple experiment is better than a long argument about what might happen.',
  ],
  home: [
    'Open the windows for a few minutes every morning to let in fresh air.',
    'The washing machine is full, so please hang the clothes out to dry.',
    'He fixed the leaking tap with a new washer and a little patience.',
    'Put the books back on the shelf and the toys in the box under the bed.',
    'The garden needs water every evening when the weather is hot and dry.',
    'Our cat sleeps on the sofa all afternoon and wakes up when it is time to eat.',
    'Turn off the lights when you leave a room to save energy.',
    'The kitchen table was covered with letters, keys and an old newspaper.',
    'We painted the bedroom a pale blue colour and bought new curtains.',
    'The dog barks at the postman every single morning.',
    'Keep a small box of tools in the house for simple repairs.',
    'The children built a tent out of blankets in the living room.',
  ],
  work: [
    'The meeting starts at ten, and each team has five minutes to speak.',
    'Please send me the report by Friday so that I can read it over the weekend.',
    'She wrote a short list of tasks and finished the most important one first.',
    'A clear question usually gets a clear answer.',
    'He keeps his notes in a notebook and copies the important parts into a file.',
    'Thank you for your email; I will reply in more detail tomorrow.',
    'The project is late because the first plan was too ambitious.',
    'Good documentation saves time for everyone who uses the code later.',
    'Take a short break every hour, stand up and look out of the window.',
    'The new version fixes three bugs and makes the program twice as fast.',
    'Our customers asked for a simpler form, so we removed two of the fields.',
    'If something is unclear, write down what you expected and what happened.',
  ],
  people: [
    'My grandmother tells the best stories about the village where she grew up.',
    'Tom and Anna have been friends since they were six years old.',
    'The teacher asked the class to read the first chapter before Thursday.',
    'He is learning to play the piano and practises for half an hour a day.',
    'They laughed so much that they forgot what the joke had been about.',
    'Her brother runs every morning, whatever the weather is like.',
    'The old man fed the birds in the park with crumbs from his pocket.',
    'Everyone was quiet when the music began.',
    'The baby smiled at her father and reached for his glasses.',
    'Zoë wrote a letter to her pen friend in Québec, in French and in English.',
    "It's never too late to learn something new, he said.",
    'The students worked in pairs and then shared their answers with the class.',
  ],
  weather: [
    'It rained all night, and the streets were still wet in the morning.',
    'The forecast says it will be sunny with a light wind from the west.',
    'In winter the days are short and the nights are long and cold.',
    'A thick fog covered the hills until almost midday.',
    'After the storm the air felt fresh and clean.',
    'Take an umbrella; the clouds are dark and it looks like rain.',
    'The first snow of the year fell quietly during the night.',
    'In spring the trees turn green and the birds start to sing early.',
  ],
};

/** Instruction and answer pairs: also handy as chat examples. */
export const CHAT_EXAMPLES: readonly { user: string; assistant: string }[] = [
  { user: 'What is the capital of France?', assistant: 'The capital of France is Paris.' },
  { user: 'How many days are there in a week?', assistant: 'There are seven days in a week.' },
  { user: 'What colour is the sky on a clear day?', assistant: 'On a clear day the sky is blue.' },
  { user: 'Say hello.', assistant: 'Hello! How can I help you today?' },
  { user: 'How do I boil an egg?', assistant: 'Put the egg in boiling water for about eight minutes.' },
  { user: 'Give me a word that rhymes with cat.', assistant: 'Hat rhymes with cat.' },
  { user: 'What is the opposite of hot?', assistant: 'The opposite of hot is cold.' },
  { user: 'Name three fruits.', assistant: 'Apples, bananas and oranges.' },
  { user: 'Translate "thank you" into French.', assistant: 'In French, "thank you" is "merci".' },
  { user: 'What does a thermometer measure?', assistant: 'A thermometer measures temperature.' },
  { user: 'Why do we need sleep?', assistant: 'Sleep lets the body and the brain rest and recover.' },
  { user: 'How many legs does a spider have?', assistant: 'A spider has eight legs.' },
  { user: 'What is the largest planet?', assistant: 'Jupiter is the largest planet in our solar system.' },
  { user: 'Write a short greeting for a birthday card.', assistant: 'Happy birthday! Have a wonderful day.' },
  { user: 'Is a tomato a fruit or a vegetable?', assistant: 'Botanically a tomato is a fruit.' },
  { user: 'What is the plural of mouse?', assistant: 'The plural of mouse is mice.' },
  { user: 'Summarise: the cat sat on the mat all day.', assistant: 'A cat spent the day on a mat.' },
  { user: 'Which is heavier, a kilo of iron or a kilo of feathers?', assistant: 'They weigh the same.' },
  { user: 'Suggest a name for a goldfish.', assistant: 'How about Bubbles?' },
  { user: 'What should I pack for a beach trip?', assistant: 'Sun cream, a towel, water and a hat.' },
  { user: 'How do I make tea?', assistant: 'Boil water, pour it over a tea bag and wait three minutes.' },
  { user: 'What is the freezing point of water?', assistant: 'Water freezes at zero degrees Celsius.' },
  { user: 'Spell the word "necessary".', assistant: 'N-E-C-E-S-S-A-R-Y.' },
  { user: 'Tell me a fact about bees.', assistant: 'Bees communicate by dancing.' },
  { user: 'Reply with yes or no: is snow cold?', assistant: 'Yes.' },
  { user: 'Count from one to five.', assistant: 'One, two, three, four, five.' },
  { user: 'What do cows drink?', assistant: 'Cows drink water.' },
  { user: 'Finish the sentence: the early bird…', assistant: '…catches the worm.' },
  { user: 'Who wrote Romeo and Juliet?', assistant: 'William Shakespeare wrote Romeo and Juliet.' },
  { user: 'What is a synonym for happy?', assistant: 'Glad, cheerful or joyful.' },
];

const CODE: string[] = [
  'function add(a, b) {\n  return a + b;\n}\n\nconsole.log(add(2, 3)); // 5\n',
  'def greet(name):\n    """Return a friendly greeting."""\n    return f"Hello, {name}!"\n\nprint(greet("world"))\n',
  'for (let i = 0; i < 10; i++) {\n  if (i % 2 === 0) {\n    total += i;\n  }\n}\n',
  'const user = { name: "Ada", age: 36, tags: ["admin", "editor"] };\nconst json = JSON.stringify(user);\n',
  '$ mkdir -p notes && cd notes\n$ echo "first note" > todo.txt\n$ cat todo.txt\nfirst note\n',
  'class Stack:\n    def __init__(self):\n        self.items = []\n\n    def push(self, x):\n        self.items.append(x)\n',
  'SELECT name, price FROM products WHERE price < 10 ORDER BY name;\n',
  '{\n  "id": 42,\n  "title": "Shopping list",\n  "done": false,\n  "items": ["milk", "eggs", "bread"]\n}\n',
  'if (response.status !== 200) {\n  throw new Error(`request failed: ${response.status}`);\n}\n',
  'x = [n * n for n in range(10) if n % 3 == 0]\nassert x == [0, 9, 36, 81]\n',
];

const EXTRA = [
  'Note: prices include tax (20%) unless stated otherwise.',
  'Emoji are fun 😀 but use them sparingly 👍.',
  'See section 3.2, pages 14–17, for details.',
  'E-mail: info@example.com · Tel: +44 20 7946 0958',
  'Naïve questions are welcome; there are no silly questions.',
  '"Are you sure?" she asked. "Yes," he said, "quite sure."',
  'TODO: check the results again & update the table.',
  'Ratio 3:2, temperature −5 °C, distance 12.5 km, speed 60 km/h.',
];

/** Common English words: glossary lines spread them over the corpus so larger vocabularies fill up. */
const WORDS = (
  'about above accept across act add afraid after again against age ago agree air allow almost alone along ' +
  'already also always among amount angle angry animal answer any appear apple area arm army arrive art ask ' +
  'attack aunt autumn average away baby back bad bag ball band bank bar base basket bath bear beat ' +
  'beautiful become bed bee before begin behind believe bell below belt bench best better between big bird ' +
  'birth bit bite black blade blood blow blue board boat body bone book border born borrow both bottle ' +
  'bottom bowl box boy brain branch brave bread break bridge bright bring broad brother brown brush build ' +
  'burn busy butter button buy cake call calm camera camp can candle capital captain car card care carry ' +
  'case castle catch cause cell centre century chain chair chalk chance change cheap check cheese chicken ' +
  'chief child choose church circle city class clean clear climb clock close cloth cloud coast coat coin ' +
  'cold collect colour comb comfort common company compare complete computer condition connect consider ' +
  'contain continue control cook cool copper corn corner correct cost cotton cough country course cousin ' +
  'cover crack cream create crime cross crowd crown cry cup cupboard curtain curve cushion cut damage dance ' +
  'danger dark daughter dead deal dear debt decide deep degree delicate depend describe desert design desk ' +
  'detail develop different difficult dinner direct dirty discover discuss disease dish distance divide ' +
  'doctor door double doubt down drawer dream dress drink drive drop dry duck dust duty eager ear early ' +
  'earth east easy edge education effect egg elbow electric empty end enemy engine enjoy enough enter equal ' +
  'error escape even evening event example exchange exercise expect expensive experience explain eye face ' +
  'fact fail fair fall false family famous far farm fast fat father fault fear feather feel fence fever ' +
  'field fight figure fill film final find fine finger fire firm fish flag flat flight floor flour flower ' +
  'fly fold follow food foot force forest forget fork form forward frame free friend front fruit full fun ' +
  'future game garden gate general gentle gift girl give glass glove goat gold good govern grain grass ' +
  'great green grey grip ground group grow guard guess guide gun hair half hall hammer hand hang happen ' +
  'happy hard harvest hat hate head health hear heart heat heavy help hide high hill history hold hole ' +
  'holiday hollow home hook hope horn horse hospital hour house hunger hurry husband idea important inch ' +
  'include increase industry ink insect instrument insurance interest invent iron island jelly jewel join ' +
  'journey judge juice jump kettle key kick kind king kiss knee knife knot know ladder lady lake lamp land ' +
  'language large last laugh law lawyer lazy lead leaf learn leather leave left leg lemon lend less letter ' +
  'level library lid life lift light like limit line lion lip liquid list listen little live lock long look ' +
  'loose lose loud love low luck lunch machine magic main make male manager many map mark market married ' +
  'mass match material meal measure meat medicine meet member memory metal middle milk mind mine minute ' +
  'mirror miss mistake mix model money monkey month morning mother motion mountain mouth move much muscle ' +
  'music nail name narrow nation natural near neck need needle nerve nest net never new news night noise ' +
  'normal north nose note nothing notice number nurse nut object ocean offer office oil old open opinion ' +
  'orange order ordinary organ other oven owner page pain paint paper parcel part party pass past paste ' +
  'path pay peace pen pencil people pepper perfect period person picture piece pig pin pipe place plane ' +
  'plant plate play please pleasure plough pocket point poison polish political poor porter position ' +
  'possible pot potato powder power present price print prison private problem process produce profit ' +
  'property protest public pull pump punish purpose push quality quarter queen quick quiet rail rain range ' +
  'rat rate raw ready reason receipt record red regret regular relation religion remain repeat reply ' +
  'request respect rest reward rhythm rice right ring river road rock roll roof room root rope rough round ' +
  'rub rule run sad safe sail salt same sand say scale school science scissors screw sea seat second secret ' +
  'see seed select self sell send sense serious servant sex shade shake shame sharp sheep shelf ship shirt ' +
  'shock shoe short shut side sign silk silver simple sister size skin skirt sky sleep slip slope slow ' +
  'small smash smell smile smoke smooth snake sneeze snow soap society sock soft solid song sort sound soup ' +
  'south space spade special sponge spoon spring square stage stamp star start statement station steam ' +
  'steel stem step stick sticky stiff still stitch stocking stomach stone stop store story straight strange ' +
  'street stretch strong structure substance sudden suggest summer sun support surprise sweet swim system ' +
  'table tail talk tall taste tax teaching tendency test theory thick thin thing thought thread throat ' +
  'thumb thunder ticket tight till tired toe together tomorrow tongue tooth top touch town trade train ' +
  'transport tray tree trick trouble trousers true turn twist umbrella uncle under unit up use value verse ' +
  'vessel view violent voice waiting walk wall war warm wash waste watch wave wax way weather week weight ' +
  'well west wet wheel whip whistle white wide will wind window wine wing winter wire wise woman wood wool ' +
  'word work worm wound writing wrong year yellow yesterday young zebra'
).split(' ');

const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September'];
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const ITEMS = ['apples', 'tickets', 'books', 'chairs', 'cups of coffee', 'pencils', 'eggs', 'stamps'];

function section(r: () => number): string {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const kind = int(12);
  if (kind < 5) {
    const sentences = pick(Object.values(TOPICS));
    const n = 3 + int(4);
    return Array.from({ length: n }, () => pick(sentences)).join(' ') + '\n\n';
  }
  if (kind < 7) {
    const qa = pick(CHAT_EXAMPLES);
    return `Question: ${qa.user}\nAnswer: ${qa.assistant}\n\n`;
  }
  if (kind === 7) {
    const a = int(100);
    const b = int(100);
    const w = int(NUMBER_WORDS.length);
    const price = (int(5000) / 100).toFixed(2);
    return (
      `What is ${a} plus ${b}? ${a} + ${b} = ${a + b}. ` +
      `${NUMBER_WORDS[w][0].toUpperCase() + NUMBER_WORDS[w].slice(1)} ${pick(ITEMS)} cost $${price}. ` +
      `The meeting is on ${pick(DAYS)}, ${1 + int(28)} ${pick(MONTHS)} ${1990 + int(40)}, at ${int(24)}:${String(int(60)).padStart(2, '0')}.\n\n`
    );
  }
  if (kind === 8) {
    const sentences = pick(Object.values(TOPICS));
    const n = 2 + int(3);
    const items = Array.from({ length: n }, (_, i) => `${i + 1}. ${pick(sentences)}`);
    return `Steps:\n${items.join('\n')}\n\n`;
  }
  if (kind === 9) return int(2) === 0 ? `\`\`\`\n${pick(CODE)}\`\`\`\n\n` : `${pick(EXTRA)}\n\n`;
  const cap = (w: string) => (int(3) === 0 ? w[0].toUpperCase() + w.slice(1) : w);
  const words = Array.from({ length: 6 + int(8) }, () => cap(pick(WORDS)));
  return `Words: ${words.join(', ')}.\n\n`;
}

const cache = new Map<string, string>();

/** The corpus: at least `minChars` characters (default 80,000), the same text for the same arguments. */
export function corpusText(minChars = 80_000, seed = 1): string {
  const key = `${minChars}:${seed}`;
  let text = cache.get(key);
  if (text === undefined) {
    const r = mulberry32(seed);
    // Every hand-written line once, so no sentence or snippet is missing from the merges.
    const parts = [
      ...Object.values(TOPICS).flat(),
      ...CHAT_EXAMPLES.map((q) => `${q.user} ${q.assistant}`),
      ...CODE,
      ...EXTRA,
      WORDS.join(' '),
      WORDS.map((w) => w[0].toUpperCase() + w.slice(1)).join(' '),
    ];
    let n = parts.reduce((a, p) => a + p.length + 1, 0);
    while (n < minChars) {
      const s = section(r);
      parts.push(s);
      n += s.length;
    }
    text = parts.join('\n');
    cache.set(key, text);
  }
  return text;
}
