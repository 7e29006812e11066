import assert from 'node:assert/strict';
import { DEMO, startBaton, type TestBaton } from '../helpers/baton.ts';

/**
 * The rules of the BPMN 2.0 specification checked at deployment (server/engine/import/rules), one
 * small file per rule: the file that breaks it is refused with 400 naming the rule and nothing is
 * stored; the same file kept to the rule deploys.
 */

/** A file as a modeling tool writes it that names no target engine: the specification's rules hold as written. */
const file = (content: string, engine = false): string => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"${engine ? ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"' : ''}
  id="Definitions_rules" targetNamespace="http://example.com/bpmn">
${content}
</bpmn:definitions>`;
const executable = (id: string, body: string): string => `<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process>`;
const flow = (id: string, from: string, to: string): string => `<bpmn:sequenceFlow id="${id}" sourceRef="${from}" targetRef="${to}" />`;
/** start, the node, end */
const around = (id: string, node: string): string => `<bpmn:startEvent id="Start" />${flow('f1', 'Start', id)}${node}${flow('f2', id, 'End')}<bpmn:endEvent id="End" />`;
const ITEMS = `<bpmn:itemDefinition id="Text" structureRef="xsd:string" /><bpmn:itemDefinition id="Number" structureRef="xsd:int" />
  <bpmn:itemDefinition id="Texts" structureRef="xsd:string" isCollection="true" />`;
const formal = (tag: string, body: string): string => `<bpmn:${tag} xsi:type="bpmn:tFormalExpression">${body}</bpmn:${tag}>`;

const timer = (value: string): string =>
  executable('timer', around('Wait', `<bpmn:intermediateCatchEvent id="Wait"><bpmn:timerEventDefinition id="Timer">${value}</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>`));
const messageStart = (definition: string): string =>
  `<bpmn:message id="Order" name="order" />
  <bpmn:interface id="Orders" name="orders"><bpmn:operation id="Receive" name="receive"><bpmn:inMessageRef>Order</bpmn:inMessageRef></bpmn:operation></bpmn:interface>
  ${executable('ordered', `<bpmn:startEvent id="Start">${definition}</bpmn:startEvent>${flow('f1', 'Start', 'End')}<bpmn:endEvent id="End" />`)}`;
const called = (ioSpecification: string): string =>
  `<bpmn:process id="Called" isExecutable="true"><bpmn:ioSpecification><bpmn:dataInput id="In" itemSubjectRef="Text" /><bpmn:inputSet><bpmn:dataInputRefs>In</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification>
    <bpmn:startEvent id="CalledStart" />${flow('c1', 'CalledStart', 'CalledEnd')}<bpmn:endEvent id="CalledEnd" /></bpmn:process>
  ${executable('caller', around('Call', `<bpmn:callActivity id="Call" calledElement="Called">${ioSpecification}</bpmn:callActivity>`))}`;
const serviceTask = (ioSpecification: string): string =>
  `${ITEMS}<bpmn:message id="Request" itemRef="Text" />
  <bpmn:interface id="Scoring" name="scoring"><bpmn:operation id="Score" name="score"><bpmn:inMessageRef>Request</bpmn:inMessageRef></bpmn:operation></bpmn:interface>
  ${executable('scored', around('Call', `<bpmn:serviceTask id="Call" operationRef="Score">${ioSpecification}</bpmn:serviceTask>`))}`;
const globalTask = (binding: string, output: string): string =>
  `${ITEMS}<bpmn:message id="Request" itemRef="Text" /><bpmn:message id="Response" itemRef="Text" />
  <bpmn:interface id="Scoring" name="scoring"><bpmn:operation id="Score" name="score"><bpmn:inMessageRef>Request</bpmn:inMessageRef><bpmn:outMessageRef>Response</bpmn:outMessageRef></bpmn:operation></bpmn:interface>
  <bpmn:globalTask id="Scorer"><bpmn:supportedInterfaceRef>Scoring</bpmn:supportedInterfaceRef>
    <bpmn:ioSpecification><bpmn:dataInput id="Asked" itemSubjectRef="Text" /><bpmn:dataOutput id="Answer" itemSubjectRef="${output}" />
      <bpmn:inputSet><bpmn:dataInputRefs>Asked</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet><bpmn:dataOutputRefs>Answer</bpmn:dataOutputRefs></bpmn:outputSet></bpmn:ioSpecification>
    ${binding}</bpmn:globalTask>`;
const BINDING = '<bpmn:ioBinding operationRef="Score" inputDataRef="Asked" outputDataRef="Answer" />';
const waitForMessage = (messageFlow: string): string =>
  `<bpmn:message id="Paid" name="paid" />
  <bpmn:collaboration id="Shop"><bpmn:participant id="Seller" processRef="paid" /><bpmn:participant id="Customer" />${messageFlow}</bpmn:collaboration>
  ${executable('paid', around('Wait', '<bpmn:intermediateCatchEvent id="Wait"><bpmn:messageEventDefinition id="PaidDef" messageRef="Paid" /></bpmn:intermediateCatchEvent>'))}`;
const task = (content: string): string => executable('looped', around('Work', `<bpmn:task id="Work">${content}</bpmn:task>`));
const MULTI = `<bpmn:multiInstanceLoopCharacteristics>${formal('loopCardinality', '3')}</bpmn:multiInstanceLoopCharacteristics>`;
const collected = (item: string): string =>
  `${ITEMS}${executable(
    'collected',
    around(
      'Work',
      `<bpmn:task id="Work"><bpmn:ioSpecification><bpmn:dataOutput id="Results" itemSubjectRef="Texts" isCollection="true" /><bpmn:inputSet /><bpmn:outputSet><bpmn:dataOutputRefs>Results</bpmn:dataOutputRefs></bpmn:outputSet></bpmn:ioSpecification>
      <bpmn:multiInstanceLoopCharacteristics>${formal('loopCardinality', '2')}<bpmn:loopDataOutputRef>Results</bpmn:loopDataOutputRef><bpmn:outputDataItem id="Result" itemSubjectRef="${item}" /></bpmn:multiInstanceLoopCharacteristics></bpmn:task>`,
    ),
  )}`;
const received = (item: string): string =>
  `${ITEMS}<bpmn:message id="Order" name="order" itemRef="Text" />
  ${executable('received', `<bpmn:startEvent id="Start"><bpmn:dataOutput id="Got" itemSubjectRef="${item}" /><bpmn:outputSet><bpmn:dataOutputRefs>Got</bpmn:dataOutputRefs></bpmn:outputSet><bpmn:messageEventDefinition id="OrderDef" messageRef="Order" /></bpmn:startEvent>${flow('f1', 'Start', 'End')}<bpmn:endEvent id="End" />`)}`;
const carried = (item: string): string =>
  `${ITEMS}${executable(
    'carried',
    `<bpmn:dataObject id="Amount" itemSubjectRef="${item}" /><bpmn:dataObjectReference id="AmountRef" dataObjectRef="Amount" />
    ${around('Work', '<bpmn:task id="Work"><bpmn:ioSpecification><bpmn:dataInput id="WorkIn" itemSubjectRef="Text" /><bpmn:inputSet><bpmn:dataInputRefs>WorkIn</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification><bpmn:dataInputAssociation id="Reads"><bpmn:sourceRef>AmountRef</bpmn:sourceRef><bpmn:targetRef>WorkIn</bpmn:targetRef></bpmn:dataInputAssociation></bpmn:task>')}`,
  )}`;
const pools = (multiplicity: string, conversation = ''): string =>
  `<bpmn:collaboration id="Talk"><bpmn:participant id="Buyer">${multiplicity}</bpmn:participant><bpmn:participant id="Seller" /></bpmn:collaboration>${conversation}`;

/** rule, what breaks it, the file that breaks it, the file kept to it */
const CASES: [rule: string, title: string, broken: string, kept: string][] = [
  ['EXT.012', 'a timer value in an executable process that is not a formal expression', file(timer('<bpmn:timeDuration>PT1M</bpmn:timeDuration>')), file(timer(formal('timeDuration', 'PT1M')))],
  [
    'EXT.024',
    'a sequence flow of an executable process with isImmediate="false"',
    file(executable('immediate', `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="End" isImmediate="false" /><bpmn:endEvent id="End" />`)),
    file(executable('immediate', `<bpmn:startEvent id="Start" /><bpmn:sequenceFlow id="f1" sourceRef="Start" targetRef="End" isImmediate="true" /><bpmn:endEvent id="End" />`)),
  ],
  ['EXT.027', 'a global conversation that references a choreography', file(pools('', '<bpmn:globalConversation id="Conversation"><bpmn:choreographyRef>Dance</bpmn:choreographyRef></bpmn:globalConversation><bpmn:choreography id="Dance" />')), file(pools('', '<bpmn:globalConversation id="Conversation" /><bpmn:choreography id="Dance" />'))],
  ['EXT.029', 'a file without a process whose pool may have fewer than no participants', file(pools('<bpmn:participantMultiplicity minimum="-1" maximum="2" />')), file(pools('<bpmn:participantMultiplicity minimum="0" maximum="2" />'))],
  [
    'EXT.041',
    'a task with a standard loop and a multi-instance',
    file(task(`<bpmn:standardLoopCharacteristics>${formal('loopCondition', '${false}')}</bpmn:standardLoopCharacteristics>${MULTI}`)),
    file(task(MULTI)),
  ],
  ['EXT.042', 'a service task calling an operation without an input set', file(serviceTask('')), file(serviceTask('<bpmn:ioSpecification><bpmn:dataInput id="Asked" itemSubjectRef="Text" /><bpmn:inputSet><bpmn:dataInputRefs>Asked</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification>'))],
  [
    'EXT.044',
    "a service task whose data input is not the item of the operation's message",
    file(serviceTask('<bpmn:ioSpecification><bpmn:dataInput id="Asked" itemSubjectRef="Number" /><bpmn:inputSet><bpmn:dataInputRefs>Asked</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification>')),
    file(serviceTask('<bpmn:ioSpecification><bpmn:dataInput id="Asked" itemSubjectRef="Text" /><bpmn:inputSet><bpmn:dataInputRefs>Asked</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification>')),
  ],
  [
    'EXT.049',
    'a receive task that starts the process but has an incoming flow',
    file(`<bpmn:message id="Paid" name="paid" />${executable('receiving', around('Receive', '<bpmn:receiveTask id="Receive" messageRef="Paid" instantiate="true" />'))}`),
    file(`<bpmn:message id="Paid" name="paid" />${executable('receiving', around('Receive', '<bpmn:receiveTask id="Receive" messageRef="Paid" />'))}`),
  ],
  [
    'EXT.063',
    'a call activity that does not pass the data input of the process it calls',
    file(`${ITEMS}${called('')}`),
    file(`${ITEMS}${called('<bpmn:ioSpecification><bpmn:dataInput id="Passed" itemSubjectRef="Text" /><bpmn:inputSet><bpmn:dataInputRefs>Passed</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification>')}`),
  ],
  ['EXT.064', 'a global task offering an interface without binding its operation', file(globalTask('', 'Text')), file(globalTask(BINDING, 'Text'))],
  ['EXT.065', "a binding of a data output that is not the item of the operation's output message", file(globalTask(BINDING, 'Number')), file(globalTask(BINDING, 'Text'))],
  ['EXT.069', 'a multi-instance output item that is not an item of the output collection', file(collected('Number')), file(collected('Text'))],
  [
    'EXT.072',
    'a complex behaviour whose condition is a constant number',
    file(task(`<bpmn:multiInstanceLoopCharacteristics behavior="Complex">${formal('loopCardinality', '3')}<bpmn:complexBehaviorDefinition id="Behaviour">${formal('condition', '23')}</bpmn:complexBehaviorDefinition></bpmn:multiInstanceLoopCharacteristics>`)),
    file(task(`<bpmn:multiInstanceLoopCharacteristics behavior="Complex">${formal('loopCardinality', '3')}<bpmn:complexBehaviorDefinition id="Behaviour">${formal('condition', '${nrOfCompletedInstances &gt;= 2}')}</bpmn:complexBehaviorDefinition></bpmn:multiInstanceLoopCharacteristics>`)),
  ],
  [
    'EXT.076',
    'a data object reference named neither after its object nor after its object and state',
    file(executable('invoiced', `<bpmn:dataObject id="Invoice" name="Invoice" /><bpmn:dataObjectReference id="InvoiceRef" dataObjectRef="Invoice" name="Bill [paid]"><bpmn:dataState id="Paid" name="paid" /></bpmn:dataObjectReference>${around('Work', '<bpmn:task id="Work" />')}`)),
    file(executable('invoiced', `<bpmn:dataObject id="Invoice" name="Invoice" /><bpmn:dataObjectReference id="InvoiceRef" dataObjectRef="Invoice" name="Invoice [paid]"><bpmn:dataState id="Paid" name="paid" /></bpmn:dataObjectReference>${around('Work', '<bpmn:task id="Work" />')}`)),
  ],
  [
    'EXT.079',
    'a sub-process with data inputs of its own',
    file(executable('nested', around('Sub', `<bpmn:subProcess id="Sub"><bpmn:ioSpecification><bpmn:dataInput id="SubIn" /><bpmn:inputSet><bpmn:dataInputRefs>SubIn</bpmn:dataInputRefs></bpmn:inputSet><bpmn:outputSet /></bpmn:ioSpecification><bpmn:startEvent id="SubStart" />${flow('s1', 'SubStart', 'SubEnd')}<bpmn:endEvent id="SubEnd" /></bpmn:subProcess>`))),
    file(executable('nested', around('Sub', `<bpmn:subProcess id="Sub"><bpmn:startEvent id="SubStart" />${flow('s1', 'SubStart', 'SubEnd')}<bpmn:endEvent id="SubEnd" /></bpmn:subProcess>`))),
  ],
  ['EXT.091', 'a data association between different items without a transformation', file(carried('Number')), file(carried('Text'))],
  ['EXT.093', 'a message start event with two data outputs for its one event definition', file(received('Text').replace('<bpmn:outputSet>', '<bpmn:dataOutput id="Extra" itemSubjectRef="Text" /><bpmn:outputSet>'), true), file(received('Text'), true)],
  ['EXT.094', "a message start event whose data output is not the item of its message", file(received('Number'), true), file(received('Text'), true)],
  [
    'EXT.095',
    'a start event using the event definition of a throw event',
    file(
      `<bpmn:message id="Note" name="note" />${executable('borrowed', `<bpmn:startEvent id="Start"><bpmn:eventDefinitionRef>Sent</bpmn:eventDefinitionRef></bpmn:startEvent>${flow('f1', 'Start', 'Send')}<bpmn:intermediateThrowEvent id="Send"><bpmn:messageEventDefinition id="Sent" messageRef="Note" /></bpmn:intermediateThrowEvent>${flow('f2', 'Send', 'End')}<bpmn:endEvent id="End" />`)}`,
      true,
    ),
    file(
      `<bpmn:message id="Note" name="note" /><bpmn:messageEventDefinition id="Shared" messageRef="Note" />${executable('borrowed', `<bpmn:startEvent id="Start"><bpmn:eventDefinitionRef>Shared</bpmn:eventDefinitionRef></bpmn:startEvent>${flow('f1', 'Start', 'Send')}<bpmn:intermediateThrowEvent id="Send"><bpmn:messageEventDefinition id="Sent" messageRef="Note" /></bpmn:intermediateThrowEvent>${flow('f2', 'Send', 'End')}<bpmn:endEvent id="End" />`)}`,
      true,
    ),
  ],
  [
    'EXT.107',
    'an end event that does not list its incoming flow in a file that lists flows',
    file(executable('listed', `<bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>${flow('f1', 'Start', 'End')}<bpmn:endEvent id="End" />`)),
    file(executable('listed', `<bpmn:startEvent id="Start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>${flow('f1', 'Start', 'End')}<bpmn:endEvent id="End"><bpmn:incoming>f1</bpmn:incoming></bpmn:endEvent>`)),
  ],
  ['EXT.119', 'a message flow that starts at a catch event', file(waitForMessage('<bpmn:messageFlow id="Pay" sourceRef="Wait" targetRef="Customer" />'), true), file(waitForMessage('<bpmn:messageFlow id="Pay" sourceRef="Customer" targetRef="Wait" />'), true)],
  ['EXT.128', 'a message event of an executable process without the operation', file(messageStart('<bpmn:messageEventDefinition id="OrderDef" messageRef="Order" />')), file(messageStart('<bpmn:messageEventDefinition id="OrderDef" messageRef="Order"><bpmn:operationRef>Receive</bpmn:operationRef></bpmn:messageEventDefinition>'))],
];

Feature('Rules of the BPMN specification checked at deployment', () => {
  let t: TestBaton;
  before(async () => {
    t = await startBaton();
  });
  after(() => t.close());

  const upload = (xml: string, name: string, viewOnly = false) => {
    const req = t.as(DEMO).post('/api/deployments').attach('file', Buffer.from(xml), name);
    return viewOnly ? req.field('view-only', 'true') : req;
  };

  Scenario('a file that breaks a rule is refused naming it; kept to the rule it deploys', () => {
    const listing = async (): Promise<unknown> => (await t.as(DEMO).get('/api/processes').expect(200)).body;
    for (const [rule, title, broken, kept] of CASES) {
      Then(`${rule}: ${title}`, async () => {
        const name = `${rule.replace('.', '')}.bpmn`;
        const before = await listing();
        const res = await upload(broken, name).expect(400);
        assert.equal(res.type, 'application/problem+json');
        const messages: string[] = res.body.problems.map((problem: { message: string }) => problem.message);
        assert.ok(messages.some((message) => message.startsWith(`${name}: ${rule}: `)), res.text);
        assert.deepEqual(await listing(), before, 'nothing is stored');
        await upload(kept, name).expect(201);
      });
    }
  });

  Scenario('a file written for Camunda binds message events by name and reads timer values as expressions', () => {
    Then('the message start event without an operation and the untyped timer deploy when the file declares the Camunda namespace', async () => {
      await upload(file(messageStart('<bpmn:messageEventDefinition id="OrderDef" messageRef="Order" />')), 'plain.bpmn').expect(400);
      await upload(file(messageStart('<bpmn:messageEventDefinition id="OrderDef" messageRef="Order" />'), true), 'camunda.bpmn').expect(201);
      await upload(file(timer('<bpmn:timeDuration>PT1M</bpmn:timeDuration>'), true), 'camunda-timer.bpmn').expect(201);
    });
  });

  Scenario('a file without a process that breaks a rule', () => {
    const broken = file(pools('<bpmn:participantMultiplicity minimum="3" maximum="2" />'));
    Then('is refused as is, naming the rule', async () => {
      const res = await upload(broken, 'pools.bpmn').expect(400);
      assert.deepEqual(
        res.body.problems.map((problem: { message: string }) => problem.message),
        ['pools.bpmn: EXT.030: participantMultiplicity <?>: maximum must not be less than minimum'],
      );
    });
    And('is deployed with view-only, the rule among the reasons it is not executed', async () => {
      const [report] = (await upload(broken, 'pools.bpmn', true).expect(201)).body.files;
      const [diagram] = report.processes;
      assert.equal(diagram.key, 'Definitions_rules');
      assert.ok(diagram.notExecuted.includes('EXT.030: participantMultiplicity <?>: maximum must not be less than minimum'), diagram.notExecuted.join('\n'));
    });
  });

  Scenario('a non-executable process documents behaviour at its own level of detail', () => {
    Then('a rule it breaks is a warning, and it deploys for viewing', async () => {
      const sketch = file('<bpmn:process id="sketch" isExecutable="false"><bpmn:startEvent id="Start" /><bpmn:endEvent id="End" /></bpmn:process>');
      const [report] = (await upload(sketch, 'sketch.bpmn').expect(201)).body.files;
      assert.deepEqual(report.problems, []);
      assert.ok(report.warnings.some((warning: { message: string }) => warning.message === 'EXT.107: endEvent <End>: an end event needs an incoming sequence flow'), JSON.stringify(report.warnings));
    });
  });
});
